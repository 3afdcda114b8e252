import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { UserError } from "./errors.js";

// verbose: errors carry the offending value, so a message can say what was given
const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: true, verbose: true });

/** Compiles a JSON schema once; the validator throws a one-line UserError naming the JSON pointer. */
export function compileSchema<T>(schema: object): (value: unknown, where: string) => T {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value: unknown, where: string): T => {
    if (!validate(value)) throw new UserError(`${where}: ${describeAjvError(validate.errors?.[0])}`);
    return value as T;
  };
}

function describeAjvError(err: ErrorObject | undefined): string {
  if (!err) return "invalid";
  const pointer = err.instancePath === "" ? "/" : err.instancePath;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "additionalProperties":
      return `${pointer}: unknown field "${String(params["additionalProperty"])}"`;
    case "required":
      return `${pointer}: missing required field "${String(params["missingProperty"])}"`;
    case "enum":
      return `${pointer}: ${err.message ?? "invalid"} (${(params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")})`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `${pointer}: ${err.message ?? "invalid"} (${JSON.stringify(err.data)} is out of range)`;
    default:
      return `${pointer}: ${err.message ?? "invalid"}`;
  }
}
