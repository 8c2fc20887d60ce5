// Puzzle datasets: the official folder format, the memory-mapped loader, builders and generators.
export { PuzzleDataset, BatchIterator } from './puzzle_dataset';
export type { PuzzleDatasetConfig, PuzzleBatch, PuzzleBatchItem, LoaderStats } from './puzzle_dataset';
export type { PuzzleDatasetMetadata } from './metadata';
export { readMetadata, writeMetadata, validateMetadata } from './metadata';
export { DatasetError } from './errors';
export { readNpy, writeNpy, readNpyHeader, parseNpy, encodeNpy, NpyRowWriter } from './npy';
export type { NpyArray, NpyDType, NpyHeader } from './npy';
export { buildArcDataset } from './builders/arc';
export { buildSudokuDataset } from './builders/sudoku';
export { buildMazeDataset } from './builders/maze';
export { generateSudokuCsv } from './generators/sudoku';
export { generateMazeCsv } from './generators/maze';
