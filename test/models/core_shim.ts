// Stands in for '@trm/core' when the models README section's examples run in tests.
export * as torch from '../../lib/torch';
export * as nn from '../../lib/nn';
export * as models from '../../lib/models';
