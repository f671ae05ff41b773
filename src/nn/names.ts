/** Model, activation and initialization names, in a module without the tensor layer, so that reading configurations needs no addon. */
export type ModelName = 'mlp' | 'keskar-f1' | 'keskar-c1' | 'lenet5' | 'linear-regression' | 'logistic-regression' | 'deep-linear' | 'wrn';
export const MODEL_NAMES: readonly ModelName[] = ['mlp', 'keskar-f1', 'keskar-c1', 'lenet5', 'linear-regression', 'logistic-regression', 'deep-linear', 'wrn'];
export type ActivationName = 'relu' | 'tanh' | 'sigmoid' | 'gelu' | 'softplus' | 'identity';
export const ACTIVATIONS: readonly ActivationName[] = ['relu', 'tanh', 'sigmoid', 'gelu', 'softplus', 'identity'];
export type InitName = 'default' | 'xavier-uniform' | 'xavier-normal' | 'kaiming-uniform' | 'kaiming-normal' | 'normal' | 'zeros';
export const INIT_NAMES: readonly InitName[] = ['default', 'xavier-uniform', 'xavier-normal', 'kaiming-uniform', 'kaiming-normal', 'normal', 'zeros'];
export type LossName = 'cross-entropy' | 'mse' | 'half-mse';
