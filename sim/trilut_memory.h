// Off-chip memory behind an AXI4-style read port, for the streaming engine's simulation.
//
// Requests (address, beats) are accepted while fewer than `maxQueued` are pending. A request's
// first beat is available `latency` cycles after it was accepted; beats leave in order, one per
// cycle at most, and only while bandwidth credit lasts. Credit grows by bwNum/bwDen bytes every
// cycle and is capped at two beats: enough to carry the fraction of a beat a cycle leaves over
// (so a busy port reaches the full bandwidth), too little for an idle port to save up a burst. All arithmetic is in integers (units of 1/bwDen byte) so the
// simulation and trilut's cycle model agree exactly.
//
// The write port (AXI4 AW/W/B, for the KV cache's writer) has the same character: write requests
// are accepted while fewer than `maxQueued` writes are pending (accepted, response not yet taken);
// data beats are taken in the order of the requests, one per cycle at most, from the cycle after
// their request was accepted, while the write port's own bandwidth credit lasts (the read port's
// rule, a separate counter: the two directions are not arbitrated against each other); a request's
// response is valid `latency` cycles after its last beat, in order. A beat's bytes land where its
// strobe bits are set, in `writable` (the same words as `image` when the port writes).
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
  uint32_t* writable = nullptr;     // the image the write port writes (null: writes are dropped)
};

class Memory {
 public:
  // Credit starts empty: bytes delivered by cycle t never exceed t · bandwidth.
  explicit Memory(const MemoryConfig& c) : cfg(c) {}

  // Called once per cycle, before the port's signals are driven.
  void beginCycle(uint64_t cycle) {
    now = cycle;
    credit = credit + cfg.bwNum > cap() ? cap() : credit + cfg.bwNum;
    wcredit = wcredit + cfg.bwNum > cap() ? cap() : wcredit + cfg.bwNum;
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

  // ---- the write port
  bool awReady() const { return writes.size() < cfg.maxQueued; }
  void acceptWrite(uint64_t addr, uint32_t beats) { writes.push_back({addr, beats, now, 0}); }
  // Whether a data beat is taken this cycle: the oldest request still owed beats, accepted before now.
  bool wReady() const {
    const WriteRequest* r = owed();
    return r != nullptr && r->acceptedAt < now && wcredit >= cost();
  }
  // The design gave a beat: `words` (beatBytes / 4 of them) and one strobe bit per byte.
  void writeBeat(const uint32_t* words, const uint8_t* strobes) {
    WriteRequest* r = owed();
    for (uint32_t i = 0; i < cfg.beatBytes; i++) {
      const uint64_t at = r->addr + i;
      if (!((strobes[i / 8] >> (i % 8)) & 1) || cfg.writable == nullptr || at >= cfg.imageBytes) continue;
      const uint32_t shift = 8 * (at % 4);
      const uint32_t byte = (words[i / 4] >> (8 * (i % 4))) & 0xff;
      cfg.writable[at / 4] = (cfg.writable[at / 4] & ~(0xffu << shift)) | (byte << shift);
    }
    wcredit -= cost();
    bytesWritten += cfg.beatBytes;
    r->addr += cfg.beatBytes;
    if (--r->beats == 0) r->lastAt = now;
  }
  // Whether the design is told to take (one) write's response: the oldest, `latency` after its last beat.
  bool bValid() const {
    return !writes.empty() && writes.front().beats == 0 && now >= writes.front().lastAt + cfg.latency;
  }
  void takeB() { writes.pop_front(); }

  uint64_t bytesWritten = 0;

 private:
  uint64_t cost() const { return static_cast<uint64_t>(cfg.beatBytes) * cfg.bwDen; }
  uint64_t cap() const { return 2 * cost(); }
  struct Request {
    uint64_t addr;
    uint32_t beats;
    uint64_t readyAt;
  };
  struct WriteRequest {
    uint64_t addr;
    uint32_t beats;     // beats still owed
    uint64_t acceptedAt;
    uint64_t lastAt;    // cycle of its last beat
  };
  const WriteRequest* owed() const {
    for (const WriteRequest& w : writes)
      if (w.beats > 0) return &w;
    return nullptr;
  }
  WriteRequest* owed() {
    for (WriteRequest& w : writes)
      if (w.beats > 0) return &w;
    return nullptr;
  }
  MemoryConfig cfg;
  std::deque<Request> queue;
  std::deque<WriteRequest> writes;
  uint64_t credit = 0;
  uint64_t wcredit = 0;
  uint64_t now = 0;
};

}  // namespace trilut
