// Grad-mode scopes, as torch.no_grad / enable_grad / inference_mode. Callbacks are synchronous:
// the mode is per thread and would leak across an await.
import { native } from './native';

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.isGradEnabled();
  native.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs `fn` without recording autograd history. */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);

/** Runs `fn` with autograd recording on (inside a noGrad, say). */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);

/** Runs `fn` in inference mode: no history and no version counters; its tensors never join autograd later. */
export function inferenceMode<T>(fn: () => T, enabled = true): T {
  native.enterInferenceMode(enabled);
  try {
    return fn();
  } finally {
    native.exitInferenceMode();
  }
}

export const isGradEnabled = (): boolean => native.isGradEnabled();
export const setGradEnabled = (enabled: boolean): void => native.setGradEnabled(enabled);
export const isInferenceModeEnabled = (): boolean => native.isInferenceModeEnabled();
