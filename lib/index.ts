// @trm/core: the public API, in the order data flows — tensors, layers, models, optimizers, data
// and evaluators, configuration, training, distributed, TorchScript.
import * as torch from './torch';
import * as nn from './nn';
import * as models from './models';
import * as optim from './optim';
import * as data from './data';
import * as evaluators from './evaluators';
import * as config from './config';
import * as train from './train';
import * as distributed from './distributed';
import * as jit from './jit';

export { torch, nn, models, optim, data, evaluators, config, train, distributed, jit };
export { Tensor, TorchError, tidy, keep, noGrad, enableGrad, inferenceMode } from './torch';
export { pretrain } from './train';
