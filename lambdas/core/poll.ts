/** Poll intervals handed to devices: ±20 % uniform jitter so a fleet never polls in lockstep. */
export const MIN_POLL_SECONDS = 30;

export function nextCheckSeconds(baseSeconds: number, random: () => number = Math.random): number {
  const jittered = baseSeconds * (0.8 + 0.4 * random());
  return Math.max(MIN_POLL_SECONDS, Math.round(jittered));
}
