// The mean of the samples added between two readings of a running mean.
//
// The live graph publishes each edge's running RTT/duration mean rounded (to 1 µs,
// to 0.1 ms), with its sample count. The interval's own mean follows from the two
// readings: (m2·n2 − m1·n1) / (n2 − n1). The rounding makes that exact only while
// n1 is small: each reading is off by up to half a quantum times its count. While
// the readings pin the interval's mean to within a few quanta, that difference is
// the answer; beyond, it is the value closest to the running mean m2 among those
// the two rounded readings allow: steady (no spikes) for long-lived edges, and it
// still follows a real shift once the interval brings enough samples.

export function intervalMean(prevMean: number, prevN: number, curMean: number, curN: number, quantum: number): number {
  const dn = curN - prevN;
  if (dn <= 0) return 0;
  if (prevN <= 0) return curMean;
  const h = quantum / 2;
  const lo = ((curMean - h) * curN - (prevMean + h) * prevN) / dn;
  const hi = ((curMean + h) * curN - (prevMean - h) * prevN) / dn;
  if (hi - lo <= 4 * quantum) return Math.max(0, (lo + hi) / 2);
  return Math.max(0, Math.min(Math.max(curMean, lo), hi));
}
