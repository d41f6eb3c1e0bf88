import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

/**
 * The shipped .proto sources. This module sits two levels below the package root both as
 * source (src/rpc) and as build output (dist/rpc), so one relative path serves both.
 */
export const protoDirectory = fileURLToPath(new URL('../../proto', import.meta.url));

/** Every .proto file of the contract, relative to protoDirectory, sorted. */
export function listProtoFiles(directory = protoDirectory): string[] {
  const walk = (path: string): string[] =>
    readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(path, entry.name)) : entry.name.endsWith('.proto') ? [join(path, entry.name)] : [],
    );
  return walk(directory).map((file) => relative(directory, file)).sort();
}

/**
 * The contract as a proto-loader package definition. Only server reflection needs it: request
 * handling uses the ts-proto generated codecs.
 */
export function loadContractDefinition(): PackageDefinition {
  return loadSync(listProtoFiles(), { includeDirs: [protoDirectory], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
}
