import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

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

/** The .proto of gRPC server reflection v1, as shipped by @grpc/reflection. */
export const reflectionProtoPath = createRequire(import.meta.url).resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');

/**
 * The contract plus the standard health and reflection protos, as a proto-loader package
 * definition. Only server reflection needs it: request handling uses the ts-proto codecs.
 */
export function loadReflectionDefinition(): PackageDefinition {
  const files = [...listProtoFiles(), healthProtoPath, reflectionProtoPath];
  return loadSync(files, { includeDirs: [protoDirectory], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
}
