import { ExactIndex } from '../../../src/engine/index/exact-index.js';
import { HnswIndex } from '../../../src/engine/index/hnsw-index.js';
import { NativeHnswIndex } from '../../../src/engine/index/native-hnsw-index.js';
import { vectorIndexContract } from '../../contracts/vector-index.contract.js';

vectorIndexContract('ExactIndex', {
  make: (dim, space) => new ExactIndex(dim, space, 8),
  load: (file, _dim, _space, live) => ExactIndex.load(file, live),
  recallFloor: 1,
});

vectorIndexContract('HnswIndex', {
  make: (dim, space) => HnswIndex.create(dim, space, { m: 16, efConstruction: 100, capacity: 64 }),
  load: (file, dim, space, live) => HnswIndex.load(file, dim, space, { m: 16, efConstruction: 100 }, live),
  recallFloor: 0.95,
});

vectorIndexContract('NativeHnswIndex', {
  make: (dim, space) => NativeHnswIndex.create(dim, space, { m: 16, efConstruction: 100, capacity: 64 }),
  load: (file, dim, space, live) =>
    NativeHnswIndex.load(file, dim, space, { m: 16, efConstruction: 100 }, live),
  recallFloor: 0.95,
});
