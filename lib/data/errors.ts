// Errors raised while reading, building or sampling puzzle datasets.
// One class so callers can tell bad data (fixable by the user) from bugs.

export class DatasetError extends Error {
  /** File the problem was found in, when there is one. */
  readonly file?: string;
  /** Field (JSON key, CSV column, array name, flag) that was wrong, when there is one. */
  readonly field?: string;

  constructor(message: string, options: { file?: string; field?: string } = {}) {
    const where = [options.file, options.field && `field "${options.field}"`].filter(Boolean).join(", ");
    super(where ? `${message} (${where})` : message);
    this.name = "DatasetError";
    this.file = options.file;
    this.field = options.field;
  }
}
