// Validates OpenAPI documents with @apidevtools/swagger-parser (the OpenAPI 3.0/3.1 schemas, $refs resolved):
//   node tests/browser/validate_openapi.mjs docs/api/*.yaml
// Exits 1 naming the first document that does not validate, and why.
import SwaggerParser from '@apidevtools/swagger-parser';

let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    const api = await SwaggerParser.validate(file);
    const paths = Object.keys(api.paths || {}).length;
    console.log(`${file}: valid OpenAPI ${api.openapi}, ${paths} paths`);
  } catch (e) {
    console.error(`${file}: not valid: ${e.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
