/** Every error raised by LibTorch or the native layer: `op` names the operation that failed. */
export class TorchError extends Error {
  readonly op: string;
  constructor(message: string, op = '') {
    super(op ? `${op}: ${message}` : message);
    this.name = 'TorchError';
    this.op = op;
  }
}
