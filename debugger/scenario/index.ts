// Scenario files: parsing (with JSON paths and lines in every error), the stream of bytes the
// peer sends, and compiling `.c` programs with clang.
export * from './types';
export { parseScenario, readScenario, readScenarioText, parseDuration, type ParseOptions } from './parse';
export { parseJsonLocated, JsonSyntaxError, type Pos } from './json';
export { compileBpf, findClang, repoIncludeDir, CompileError, type CompileOptions } from './compile';
