/**
 * Runs every step once per round, the order rotated each round, so that the drifts of a shared
 * machine hit all contenders alike; round `r < warmups` is a warm-up whose results are dropped.
 */
export async function interleaved(
  steps: readonly ((warm: boolean, label: string) => Promise<void>)[],
  warmups: number,
  runs: number,
  between: () => Promise<void>,
): Promise<void> {
  for (let round = 0; round < warmups + runs; round++) {
    const warm = round < warmups;
    const label = warm ? `warm-up ${round + 1}` : `run ${round - warmups + 1}/${runs}`;
    for (let k = 0; k < steps.length; k++) {
      await steps[(round + k) % steps.length]!(warm, label);
      await between();
    }
  }
}
