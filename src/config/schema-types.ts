/**
 * The public option and metadata types are plain hand-written interfaces, so that the package's
 * declarations never mention zod (whose own declarations do not compile without esModuleInterop).
 * The schemas carry the JSDoc tag "internal", and the build leaves them out (tsconfig.build.json
 * stripInternal drops every declaration whose leading comment holds the tag, which is why this
 * comment does not spell it); test/api/consumer-types.test.ts compiles the result as a consumer
 * would. Next to each schema, `Expect<Equals<...>>` checks at compile time that the hand-written
 * type and the schema's z.input / z.output are the same type: a field added to one and not the
 * other, a changed type, or a default added or dropped fails `tsc` (`npm run lint`, `npm run
 * build:ts`). This module stays free of zod.
 */

/**
 * Options after validation: every option holds its value (given or default), except those named in
 * `Optional`, which have no default and stay optional.
 */
export type Resolved<Options, Optional extends keyof Options = never> = {
  // one object type, not an intersection: it reads (and compares) as a plain object
  [K in keyof (Required<Omit<Options, Optional>> & Pick<Options, Optional>)]: (Required<Omit<Options, Optional>> & Pick<Options, Optional>)[K];
};

/**
 * true when A and B are the same type. Mutually assignable is not enough (a field typed any, or
 * readonly on one side only, would pass), so this compares them as the compiler's identity
 * relation does.
 */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when T is true: `type _Check = Expect<Equals<Hand, z.output<typeof schema>>>`. */
export type Expect<T extends true> = T;
