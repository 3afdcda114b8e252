// The host side of a streaming engine's simulation: descriptors and activations stream in, results
// stream out, and weights come from the memory model over the AXI read port; all in C++.
// Backpressure on the host streams is random but seeded, as in trilut_host.h.
#pragma once

#include <string>
#include <vector>

#include "trilut_descriptor.h"  // generated from src/engine/descriptor.ts
#include "trilut_host.h"
#include "trilut_memory.h"

namespace trilut {

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
