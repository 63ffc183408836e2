// Wire enumerations shared by the codec and the links: frame kinds and element types.

/** Frame kinds, a u8 on the wire. Extend by adding entries (never renumber existing ones). */
export const FrameKind = {
  Activation: 1,
  Gradient: 2,
  GradNorm: 3,
  Heartbeat: 4,
  Control: 5,
  /** A half of a tied weight's gradient, relayed between the stages that hold the two uses. */
  TiedGradient: 6,
  /** Forward activations of an evaluation (validation) micro-batch. */
  Evaluation: 7,
} as const;
export type FrameKindName = keyof typeof FrameKind;

export type DType = 'float32' | 'int32' | 'uint8' | 'float64';
export type FrameData = Float32Array | Int32Array | Uint8Array | Float64Array;

type TypedArrayCtor = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Float64ArrayConstructor;

/** dtype codes on the wire (u8). */
export const DTYPE_CODE: Readonly<Record<DType, number>> = { float32: 1, int32: 2, uint8: 3, float64: 4 };

/** Bytes per element of each dtype. */
export const ELEMENT_BYTES: Readonly<Record<DType, number>> = { float32: 4, int32: 4, uint8: 1, float64: 8 };

export interface DTypeInfo {
  dtype: DType;
  bytes: number;
  array: TypedArrayCtor;
}

/** Lookup by wire code; undefined for unknown codes. */
export const DTYPE_BY_CODE: Readonly<Partial<Record<number, DTypeInfo>>> = {
  1: { dtype: 'float32', bytes: 4, array: Float32Array },
  2: { dtype: 'int32', bytes: 4, array: Int32Array },
  3: { dtype: 'uint8', bytes: 1, array: Uint8Array },
  4: { dtype: 'float64', bytes: 8, array: Float64Array },
};

const KNOWN_KINDS: ReadonlySet<number> = new Set(Object.values(FrameKind));

export function isKnownKind(kind: number): boolean {
  return KNOWN_KINDS.has(kind);
}

/** Name of a kind for logs, e.g. 'Activation', or the number when unknown. */
export function frameKindName(kind: number): string {
  const entry = Object.entries(FrameKind).find(([, value]) => value === kind);
  return entry ? entry[0] : String(kind);
}
