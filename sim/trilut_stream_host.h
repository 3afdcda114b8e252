// The host side of the engine's simulation: descriptors and activations stream in, results stream
// out, and weights come from the memory model over the AXI read port; one clock at a time, all in C++.
//
// Backpressure is random but seeded: a host stream with data raises valid with probability
// `validProb` and then holds it until the handshake (as AXI requires); the result sink raises
// ready with probability `readyProb` every cycle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trilut_descriptor.h"  // generated from src/engine/descriptor.ts
#include "trilut_memory.h"
#include "verilated.h"

namespace trilut {

// ---- port access for every width Verilator may choose
inline void put(CData& port, const uint32_t* w) { port = static_cast<CData>(w[0]); }
inline void put(SData& port, const uint32_t* w) { port = static_cast<SData>(w[0]); }
inline void put(IData& port, const uint32_t* w) { port = w[0]; }
inline void put(QData& port, const uint32_t* w) { port = static_cast<QData>(w[0]) | (static_cast<QData>(w[1]) << 32); }
template <std::size_t N>
inline void put(VlWide<N>& port, const uint32_t* w) {
  for (std::size_t i = 0; i < N; i++) port[i] = w[i];
}
inline void get(const CData& port, uint32_t* w) { w[0] = port; }
inline void get(const SData& port, uint32_t* w) { w[0] = port; }
inline void get(const IData& port, uint32_t* w) { w[0] = port; }
inline void get(const QData& port, uint32_t* w) {
  w[0] = static_cast<uint32_t>(port);
  w[1] = static_cast<uint32_t>(port >> 32);
}
template <std::size_t N>
inline void get(const VlWide<N>& port, uint32_t* w) {
  for (std::size_t i = 0; i < N; i++) w[i] = port[i];
}

// ---- seeded randomness (splitmix64): cheap, and the same sequence on every platform
struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // true with probability p (p >= 1 never draws, so full-speed runs are unaffected by the seed)
  bool chance(double p) { return p >= 1.0 || static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
};

struct Stream {
  const uint32_t* data = nullptr;
  uint64_t beats = 0;
  uint64_t wordsPerBeat = 0;
  uint64_t next = 0;    // beats handed over
  bool valid = false;
  const uint32_t* beat() const { return data + next * wordsPerBeat; }
  bool more() const { return next < beats; }
  // The engine took the current beat: the next one is offered anew.
  void handed() {
    next++;
    valid = false;
  }
};

// Valid rises at random on a stream with data and then holds until the handshake (as AXI requires).
inline void offer(Stream* const* streams, int count, Random& rng, double validProb) {
  for (int i = 0; i < count; i++)
    if (!streams[i]->valid && streams[i]->more() && rng.chance(validProb)) streams[i]->valid = true;
}

// Where result beats go; an engine that drains more than the schedule expects is an error.
struct ResultSink {
  uint32_t* data;
  uint64_t beats;
  uint64_t wordsPerBeat;
  uint64_t received = 0;
  template <class Port>
  bool take(const Port& port, uint64_t cycle, std::string& error) {
    if (received >= beats) {
      error = "engine produced more result beats than the schedule drains (" + std::to_string(beats) + ") at cycle " +
              std::to_string(cycle);
      return false;
    }
    get(port, data + received * wordsPerBeat);
    received++;
    return true;
  }
};

// Something that records the waveform, called after every half clock.
struct TraceSink {
  virtual ~TraceSink() = default;
  virtual void dump(uint64_t halfCycles) = 0;
};

// One half of a clock period: set clk, evaluate, record the waveform.
template <class Top>
void halfCycle(Top& top, int level, TraceSink* trace, uint64_t& halfCycles) {
  top.clk = level;
  top.eval();
  if (trace) trace->dump(halfCycles);
  halfCycles++;
}

// Two cycles of reset; the caller has set every valid and ready low.
template <class Top>
void reset(Top& top, TraceSink* trace, uint64_t& halfCycles) {
  top.rst = 1;
  for (int i = 0; i < 2; i++) {
    halfCycle(top, 0, trace, halfCycles);
    halfCycle(top, 1, trace, halfCycles);
  }
  top.rst = 0;
}

struct StreamRunSpec {
  Stream descriptors;  // DESCRIPTOR_WORDS words per beat (trilut_descriptor.h)
  Stream acts;
  uint32_t* results = nullptr;
  uint64_t resultBeats = 0;
  uint64_t resultWordsPerBeat = 0;
  MemoryConfig memory;
  double validProb = 1.0;
  double readyProb = 1.0;
  uint64_t seed = 1;
  uint64_t maxCycles = 0;
  uint64_t stallLimit = 100000;
};

struct StreamRunOutcome {
  uint64_t cycles = 0;
  uint64_t resultsReceived = 0;
  uint64_t bytesRead = 0;
  uint64_t memBusyCycles = 0;
  std::string error;
};

template <class Top>
StreamRunOutcome runStreaming(Top& top, StreamRunSpec& spec, TraceSink* trace) {
  StreamRunOutcome out;
  Random rng(spec.seed);
  Memory mem(spec.memory);
  uint64_t half = 0;
  top.desc_valid = 0;
  top.x_valid = 0;
  top.y_ready = 0;
  top.ar_ready = 0;
  top.r_valid = 0;
  reset(top, trace, half);
  uint64_t cycle = 0;
  uint64_t lastProgress = 0;
  ResultSink sink{spec.results, spec.resultBeats, spec.resultWordsPerBeat};
  std::vector<uint32_t> beat(spec.memory.beatBytes / 4 + 2, 0);
  for (;;) {
    mem.beginCycle(cycle);
    Stream* const streams[2] = {&spec.descriptors, &spec.acts};
    offer(streams, 2, rng, spec.validProb);
    const bool yReady = rng.chance(spec.readyProb);

    top.desc_valid = spec.descriptors.valid;
    if (spec.descriptors.more()) {
      poke_descriptor(top, read_descriptor(spec.descriptors.beat()), [](auto& port, uint32_t value) {
        const uint32_t w[2] = {value, 0};
        put(port, w);
      });
    }
    top.x_valid = spec.acts.valid;
    if (spec.acts.more()) put(top.x_data, spec.acts.beat());
    top.y_ready = yReady;
    top.ar_ready = mem.arReady();
    const bool rValid = mem.rValid();
    top.r_valid = rValid;
    top.r_last = rValid && mem.rLast();
    if (rValid) {
      mem.rData(beat.data());
      put(top.r_data, beat.data());
    }

    halfCycle(top, 0, trace, half);

    if (!spec.descriptors.more() && sink.received == spec.resultBeats && !top.busy) {
      if (spec.acts.more()) out.error = "schedule left " + std::to_string(spec.acts.beats - spec.acts.next) + " activation beats unconsumed";
      break;
    }

    const bool descFire = top.desc_valid && top.desc_ready;
    const bool xFire = top.x_valid && top.x_ready;
    const bool yFire = top.y_valid && yReady;
    const bool arFire = top.ar_valid && top.ar_ready;
    const bool rFire = rValid && top.r_ready;
    uint64_t arAddr = 0;
    uint32_t arBeats = 0;
    if (arFire) {
      uint32_t w[2] = {0, 0};
      get(top.ar_addr, w);
      arAddr = w[0];
      arBeats = static_cast<uint32_t>(top.ar_len) + 1;
    }
    if (yFire && !sink.take(top.y_data, cycle, out.error)) break;

    halfCycle(top, 1, trace, half);
    cycle++;

    if (descFire) spec.descriptors.handed();
    if (xFire) spec.acts.handed();
    if (rFire) mem.fire();
    if (arFire) mem.accept(arAddr, arBeats);
    if (descFire || xFire || yFire || arFire || rFire) lastProgress = cycle;

    if (cycle - lastProgress > spec.stallLimit) {
      out.error = "simulation hung: no handshake for " + std::to_string(spec.stallLimit) + " cycles at cycle " +
                  std::to_string(cycle) + " on descriptor " + std::to_string(spec.descriptors.next) + "/" +
                  std::to_string(spec.descriptors.beats) + " (activation beats " + std::to_string(spec.acts.next) + "/" +
                  std::to_string(spec.acts.beats) + ", results " + std::to_string(sink.received) + "/" +
                  std::to_string(spec.resultBeats) + ", memory bytes read " + std::to_string(mem.bytesRead) + ")";
      break;
    }
    if (spec.maxCycles != 0 && cycle >= spec.maxCycles) {
      out.error = "simulation exceeded the limit of " + std::to_string(spec.maxCycles) + " cycles";
      break;
    }
  }
  out.cycles = cycle;
  out.resultsReceived = sink.received;
  out.bytesRead = mem.bytesRead;
  out.memBusyCycles = mem.busyCycles;
  return out;
}

}  // namespace trilut
