import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import {
  RESIDENCY_CONFIG_SHAPE,
  type ConfigShape,
} from '@residency-dev/plugin-residency-node';

/** Key paths of a shape: `a.b`, `a[]`, `a{}` (map values); opaque and value are leaves. */
function shapePaths(shape: ConfigShape, path: string): string[] {
  if (shape.kind === 'object') {
    return Object.entries(shape.keys).flatMap(([k, s]) => [
      `${path}.${k}`,
      ...shapePaths(s, `${path}.${k}`),
    ]);
  }
  if (shape.kind === 'array') return shapePaths(shape.items, `${path}[]`);
  if (shape.kind === 'map') return shapePaths(shape.values, `${path}{}`);
  return [];
}

/** The same key paths read from a TypeScript type in config.d.ts. */
function typePaths(node: ts.TypeNode, path: string): string[] {
  if (ts.isTypeLiteralNode(node)) {
    return node.members.flatMap(m => {
      if (ts.isIndexSignatureDeclaration(m) && m.type) {
        return typePaths(m.type, `${path}{}`);
      }
      if (ts.isPropertySignature(m) && m.type) {
        const name = m.name.getText();
        return [`${path}.${name}`, ...typePaths(m.type, `${path}.${name}`)];
      }
      return [];
    });
  }
  if (ts.isArrayTypeNode(node)) return typePaths(node.elementType, `${path}[]`);
  if (
    ts.isTypeReferenceNode(node) &&
    node.typeName.getText() === 'Array' &&
    node.typeArguments?.length === 1
  ) {
    return typePaths(node.typeArguments[0], `${path}[]`);
  }
  return [];
}

/** Key paths under `residency` declared by one package's config.d.ts. */
function residencyPathsOf(file: string): string[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const config = source.statements.find(
    (s): s is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(s) && s.name.text === 'Config',
  );
  const residency = config?.members.find(
    (m): m is ts.PropertySignature =>
      ts.isPropertySignature(m) && m.name.getText() === 'residency',
  );
  if (!residency?.type) throw new Error(`${file} declares no residency key`);
  return typePaths(residency.type, 'residency');
}

describe('the residency: schema shared by backend and CLI', () => {
  it('names exactly the keys of config.d.ts (unknown keys are refused against it)', () => {
    // The backend plugin declares most of `residency:`; the permission-policy
    // module (its own package) declares `residency.roles`.
    const fromTypes = [
      ...new Set([
        ...residencyPathsOf(join(__dirname, '..', 'config.d.ts')),
        ...residencyPathsOf(
          join(
            __dirname,
            '..',
            '..',
            'residency-backend-module-permission-policy',
            'config.d.ts',
          ),
        ),
      ]),
    ].sort();
    const fromShape = shapePaths(RESIDENCY_CONFIG_SHAPE, 'residency').sort();
    expect(fromTypes.length).toBeGreaterThan(40);
    expect(fromShape).toEqual(fromTypes);
  });
});
