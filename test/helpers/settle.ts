// Mocha root hook: before each test, collect the tensors earlier tests left unreachable and let
// their finalizers run, so a test's live-tensor counts are its own (finalizers otherwise run at
// whatever await point the collector picks, inside some later async test).
import { memory } from '../../lib/torch';

const gc = (globalThis as { gc?: () => void }).gc;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

export const mochaHooks = {
  async beforeEach(): Promise<void> {
    if (!gc) return;
    for (let i = 0; i < 3; i++) {
      const before = memory().tensors;
      gc();
      await tick();
      if (memory().tensors === before) return;
    }
  },
};
