// Off-chip memory behind an AXI4-style read port, for the streaming engine's simulation.
//
// Requests (address, beats) are accepted while fewer than `maxQueued` are pending. A request's
// first beat is available `latency` cycles after it was accepted; beats leave in order, one per
// cycle at most, and only while bandwidth credit lasts. Credit grows by bwNum/bwDen bytes every
// cycle and is capped at two beats: enough to carry the fraction of a beat a cycle leaves over
// (so a busy port reaches the full bandwidth), too little for an idle port to save up a burst. All arithmetic is in integers (units of 1/bwDen byte) so the
// simulation and trilut's cycle model agree exactly.
#pragma once

#include <cstdint>
#include <deque>

namespace trilut {

struct MemoryConfig {
  const uint32_t* image = nullptr;  // little-endian words
  uint64_t imageBytes = 0;
  uint32_t beatBytes = 128;
  uint64_t bwNum = 768;   // bytes per cycle = bwNum / bwDen
  uint64_t bwDen = 10;
  uint32_t latency = 64;
  uint32_t maxQueued = 16;
};

class Memory {
 public:
  // Credit starts empty: bytes delivered by cycle t never exceed t · bandwidth.
  explicit Memory(const MemoryConfig& c) : cfg(c) {}

  // Called once per cycle, before the port's signals are driven.
  void beginCycle(uint64_t cycle) {
    now = cycle;
    credit = credit + cfg.bwNum > cap() ? cap() : credit + cfg.bwNum;
  }
  bool arReady() const { return queue.size() < cfg.maxQueued; }
  void accept(uint64_t addr, uint32_t beats) { queue.push_back({addr, beats, now + cfg.latency}); }

  bool rValid() const {
    return !queue.empty() && now >= queue.front().readyAt && credit >= cost();
  }
  bool rLast() const { return !queue.empty() && queue.front().beats == 1; }
  // The current beat's data (words past the image read as zero).
  void rData(uint32_t* words) const {
    const uint64_t base = queue.front().addr;
    for (uint32_t i = 0; i < cfg.beatBytes / 4; i++) {
      const uint64_t at = base + 4ull * i;
      words[i] = at + 4 <= cfg.imageBytes ? cfg.image[at / 4] : 0;
    }
  }
  // The engine took the beat.
  void fire() {
    credit -= cost();
    bytesRead += cfg.beatBytes;
    busyCycles++;
    Request& r = queue.front();
    r.addr += cfg.beatBytes;
    if (--r.beats == 0) queue.pop_front();
  }

  uint64_t bytesRead = 0;
  uint64_t busyCycles = 0;

 private:
  uint64_t cost() const { return static_cast<uint64_t>(cfg.beatBytes) * cfg.bwDen; }
  uint64_t cap() const { return 2 * cost(); }
  struct Request {
    uint64_t addr;
    uint32_t beats;
    uint64_t readyAt;
  };
  MemoryConfig cfg;
  std::deque<Request> queue;
  uint64_t credit = 0;
  uint64_t now = 0;
};

}  // namespace trilut
