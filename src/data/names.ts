/** Dataset names, in a module without the tensor layer, so that reading configurations needs no addon. */
export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar10' | 'cifar100' | 'linear-regression' | 'gaussian-classification';
export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'linear-regression', 'gaussian-classification'];
