/** Sizes beyond which the engine refuses a setting up front, naming it, rather than failing inside an allocation. */

/** The most values one tensor or typed array may have: 2^30 float32 (4 GiB), within what one typed array holds on every 64-bit Node 20. */
export const MAX_TYPED_ELEMENTS = 2 ** 30;

/** Bytes as a message shows them. */
export const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 3 : 1)} GiB`;
