/**
 * Hard limits of the lattice model (docs/architecture.md › The lattice model). Plans may be stricter; these are what the
 * engine itself can represent, so they hold whatever plan a tenant is on.
 */

/** Fewest axes a lattice may have. */
export const MIN_DIMENSIONS = 1;

/** Most axes a lattice may have. */
export const MAX_DIMENSIONS = 10;

/** Most cells a lattice may have: cell indices must fit an unsigned 32-bit integer. */
export const MAX_CELLS = 2 ** 32;

/**
 * Most explicit obstacles in one spec. A spec with more than this should use the procedural
 * rule; a million coordinates is already a request body of tens of megabytes.
 */
export const MAX_EXPLICIT_BLOCKED = 1_000_000;

/** Most heat sources (or initial impulses) a diffusion job may name. */
export const MAX_DIFFUSION_SOURCES = 10_000;

/** Most explicit steps of one diffusion job. */
export const MAX_DIFFUSION_STEPS = 1_000_000;

/**
 * Longest path (in cells) a shortest-path result lists. Only 1-D and 2-D lattices of billions of
 * cells reach it; past it the result keeps the length and sets `path_omitted`.
 */
export const MAX_RETURNED_PATH_CELLS = 1_000_000;

/** Most values in the downsampled field a diffusion result carries. */
export const MAX_FIELD_VALUES = 4096;

/** Most densities one percolation job samples. */
export const MAX_PERCOLATION_POINTS = 1_001;

/** Most `pairs` of one shortest_path job. */
export const MAX_PATH_PAIRS = 1_000;

/** Most source cells a distance field may name (a whole face is one source set, not counted here). */
export const MAX_FIELD_SOURCES = 1_000;

/** Largest cost of one cell of a procedural cost map (a byte per cell). */
export const MAX_CELL_COST = 255;

/** Bins of a distance field's histogram: the bin width doubles until the largest distance fits. */
export const DISTANCE_HISTOGRAM_BINS = 64;
