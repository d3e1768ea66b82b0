/**
 * A value derived from a frozen object once, then remembered for as long as the
 * object lives. Only frozen objects (the engine's deep-frozen policy and trust
 * snapshot) are remembered: another caller's object could change after the call,
 * so for it the value is derived on every use.
 */
export function oncePerFrozen<K extends object, V>(
  derive: (source: K) => V,
): (source: K) => V {
  const derived = new WeakMap<K, V>();
  return source => {
    if (derived.has(source)) return derived.get(source) as V;
    const value = derive(source);
    if (Object.isFrozen(source)) derived.set(source, value);
    return value;
  };
}
