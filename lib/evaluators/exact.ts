// Exact-accuracy evaluator for Sudoku and Maze: a test example counts as solved only when every
// labelled position (label != -100) is predicted right. Padding rows (no labelled position) are skipped.
import { IGNORE_LABEL_ID } from "../data/sampling";
import { Evaluator, TensorMap, pick } from "./types";

interface ExactState {
  examples: number;
  exact: number;
  tokens: number;
  tokensCorrect: number;
}

export class ExactAccuracy implements Evaluator {
  readonly requiredOutputs: ReadonlySet<string> = new Set(["labels", "preds"]);
  private state: ExactState = { examples: 0, exact: 0, tokens: 0, tokensCorrect: 0 };

  /** `name` prefixes the metric keys, e.g. "Sudoku/exact_accuracy". */
  constructor(readonly name = "ExactAccuracy") {}

  beginEval(): void {
    this.state = { examples: 0, exact: 0, tokens: 0, tokensCorrect: 0 };
  }

  updateBatch(batch: TensorMap, preds: TensorMap): void {
    const labels = pick(batch, preds, "labels");
    const predicted = pick(batch, preds, "preds");
    const [B, L] = labels.shape;
    if (predicted.shape[0] !== B || predicted.shape[1] !== L) {
      throw new Error(`preds shape (${predicted.shape.join(", ")}) does not match labels (${labels.shape.join(", ")})`);
    }
    for (let b = 0; b < B; b++) {
      let labelled = 0;
      let right = 0;
      for (let j = b * L; j < (b + 1) * L; j++) {
        const y = labels.data[j];
        if (y === IGNORE_LABEL_ID) continue;
        labelled++;
        if (predicted.data[j] === y) right++;
      }
      if (labelled === 0) continue;
      this.state.examples++;
      if (right === labelled) this.state.exact++;
      this.state.tokens += labelled;
      this.state.tokensCorrect += right;
    }
  }

  serializeState(): string {
    return JSON.stringify(this.state);
  }

  mergeState(serialized: string): void {
    const o = JSON.parse(serialized) as ExactState;
    this.state.examples += o.examples;
    this.state.exact += o.exact;
    this.state.tokens += o.tokens;
    this.state.tokensCorrect += o.tokensCorrect;
  }

  result(): Record<string, number> {
    const s = this.state;
    return {
      [`${this.name}/exact_accuracy`]: s.examples > 0 ? s.exact / s.examples : 0,
      [`${this.name}/token_accuracy`]: s.tokens > 0 ? s.tokensCorrect / s.tokens : 0,
      [`${this.name}/count`]: s.examples,
    };
  }
}
