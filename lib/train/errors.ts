/** A training run cannot go on: bad configuration for this data, a NaN loss, a bad resume file. */
export class TrainingError extends Error {
  constructor(message: string, readonly step?: number) {
    super(message);
    this.name = 'TrainingError';
  }
}
