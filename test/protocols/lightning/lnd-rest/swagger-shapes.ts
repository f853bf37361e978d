/**
 * Checks a JSON value against a schema of lnd's swagger (the subsets beside this file), as lnd's
 * REST gateway writes it: int64 and uint64 as decimal strings, bytes as base64, enums by name, a
 * message field that is unset as null. Stricter than swagger: a field the schema does not name is
 * a problem (the front must not invent fields lnd does not have).
 */
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';

/** Swagger schemas are untyped JSON. */
type Schema = any;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function shapeProblems(value: unknown, schema: Schema, at = '$'): string[] {
  if (schema.type === 'object' || schema.properties || schema.additionalProperties) {
    if (value === null && at !== '$') return [];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: not an object`];
    return Object.entries(value).flatMap(([key, v]) => {
      const field = schema.properties?.[key] ?? schema.additionalProperties;
      if (!field) return [`${at}.${key}: not a field of lnd's ${schema.title ?? 'message'}`];
      return shapeProblems(v, field, `${at}.${key}`);
    });
  }
  if (schema.type === 'array')
    return Array.isArray(value)
      ? value.flatMap((v, i) => shapeProblems(v, schema.items, `${at}[${i}]`))
      : [`${at}: not an array`];
  if (schema.enum)
    return schema.enum.includes(value) ? [] : [`${at}: ${String(value)} is not one of ${schema.enum}`];
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: not a string`];
      if ((schema.format === 'int64' || schema.format === 'uint64') && !/^-?\d+$/.test(value))
        return [`${at}: ${value} is not a decimal ${schema.format}`];
      if (schema.format === 'uint64' && value.startsWith('-')) return [`${at}: negative uint64`];
      if (schema.format === 'byte' && !BASE64.test(value)) return [`${at}: not base64`];
      return [];
    case 'integer':
      return Number.isSafeInteger(value) ? [] : [`${at}: not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: not a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    default:
      return [`${at}: no type in the schema`];
  }
}

/** A swagger subset, validated as a swagger 2.0 document, with every $ref resolved. */
export async function loadSwagger(file: string): Promise<Schema> {
  const doc = JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8'));
  await SwaggerParser.validate(structuredClone(doc));
  return SwaggerParser.dereference(doc);
}
