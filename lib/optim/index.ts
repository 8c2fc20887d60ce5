// `optim`: AdamATan2 (fused native kernel), the puzzle embedding's sign-SGD, the warmup + cosine
// schedule, EMA of the weights, and the optimizers of the training loop as the official builds them.
export * from './optimizer';
export * from './adam_atan2';
export * from './sparse_sign_sgd';
export * from './lr_schedule';
export * from './ema';
export * from './build';
