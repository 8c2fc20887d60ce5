// @trm/core: the public API.
import * as torch from './torch';

export { torch };
export { Tensor, TorchError, tidy, keep, noGrad, enableGrad, inferenceMode } from './torch';
