// SPDX-License-Identifier: MIT
// memalot mcp driven by the official MCP TypeScript SDK client: every tool, resource and list, every structured result checked against its outputSchema.
//
// usage: node client-test.mjs MEMALOT REPORT_DIR [PID]
//   REPORT_DIR holds at least one report of a real monitoring run; with PID (a
//   running CPython process) snapshot_process is called too (--allow-attach).
// Prints one "ok"/"not ok" line per check on stderr; exits 1 when one failed.

import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ErrorCode, LATEST_PROTOCOL_VERSION, McpError } from '@modelcontextprotocol/sdk/types.js';
import Ajv from 'ajv';

const [memalot, reportDir, pidArg] = process.argv.slice(2);
if (!memalot || !reportDir) {
	console.error('usage: node client-test.mjs MEMALOT REPORT_DIR [PID]');
	process.exit(2);
}
const pid = pidArg ? Number(pidArg) : null;

// The SDK validates structuredContent with a lenient Ajv (strict: false); a
// strict one also proves the schemas themselves are well-formed JSON Schema.
const strictAjv = new Ajv({ strict: true, allErrors: true });
const validators = new Map();

let failed = 0;
async function check(name, fn) {
	try {
		await fn();
		console.error(`ok - ${name}`);
	} catch (e) {
		failed++;
		console.error(`not ok - ${name}: ${e && e.stack ? e.stack : e}`);
	}
}

// A successful call: the SDK has checked structuredContent against the
// outputSchema; check it again strictly, and that the text block is the same JSON.
async function call(client, name, args) {
	const res = await client.callTool({ name, arguments: args });
	const text = res.content?.[0]?.text;
	assert.equal(res.isError, false, `${name} failed: ${text}`);
	assert.equal(typeof res.structuredContent, 'object');
	const validate = validators.get(name);
	assert.ok(validate(res.structuredContent), `${name}: ${strictAjv.errorsText(validate.errors)}`);
	assert.equal(res.content[0].type, 'text');
	assert.deepEqual(JSON.parse(text), res.structuredContent);
	return res.structuredContent;
}

// A failing call: an isError result with a text block, no exception.
async function callError(client, name, args, pattern) {
	const res = await client.callTool({ name, arguments: args });
	assert.equal(res.isError, true, `${name} did not fail`);
	assert.equal(res.content[0].type, 'text');
	assert.match(res.content[0].text, pattern);
}

const args = ['mcp', '--report-directory', reportDir];
if (pid) args.push('--allow-attach');
const transport = new StdioClientTransport({ command: memalot, args, stderr: 'pipe' });
// the SDK tells the transport which protocol version was agreed on
let negotiated = null;
transport.setProtocolVersion = (v) => { negotiated = v; };
let stderr = '';
transport.stderr?.on('data', (d) => { stderr += d; });
const client = new Client({ name: 'memalot-client-test', version: '1.0.0' });

await check('connect and initialize', async () => {
	await client.connect(transport);
	const info = client.getServerVersion();
	assert.equal(info.name, 'memalot');
	assert.match(info.version, /^\d+\.\d+\.\d+/);
	const caps = client.getServerCapabilities();
	assert.ok(caps.tools && caps.resources && caps.prompts, JSON.stringify(caps));
	assert.ok(client.getInstructions(), 'no instructions');
	assert.equal(negotiated, LATEST_PROTOCOL_VERSION);
});
if (failed) {
	console.error(`memalot mcp stderr:\n${stderr}`);
	process.exit(1);
}

await check('ping', async () => {
	assert.deepEqual(await client.ping(), {});
});

const want = ['list_leak_reports', 'get_leak_report', 'get_object_details'];
if (pid) want.push('snapshot_process');
await check('tools/list', async () => {
	const { tools } = await client.listTools();
	assert.deepEqual(tools.map((t) => t.name).sort(), [...want].sort());
	for (const t of tools) {
		assert.equal(t.inputSchema.type, 'object');
		assert.equal(t.inputSchema.additionalProperties, false);
		strictAjv.compile(t.inputSchema);
		assert.equal(t.outputSchema?.type, 'object', `${t.name} has no object outputSchema`);
		validators.set(t.name, strictAjv.compile(t.outputSchema));
		// the SDK itself validates this tool's results: it refuses one without the required members
		const sdkValidate = client.getToolOutputValidator(t.name);
		assert.ok(sdkValidate, `the SDK has no validator for ${t.name}`);
		assert.equal(sdkValidate({}).valid, false, `the SDK accepts {} from ${t.name}`);
		assert.equal(t.annotations?.readOnlyHint, true);
	}
});

let reportId, iteration, object;
await check('list_leak_reports', async () => {
	const res = await call(client, 'list_leak_reports', {});
	assert.ok(res.reports.length >= 1, 'no reports');
	assert.equal(res.total_reports, res.reports.length);
	const r = res.reports[0];
	assert.match(r.report_id, /^[a-z0-9]{4}-[a-z0-9]{4}$/);
	assert.ok(r.iterations >= 1 && r.leaked_objects > 0, JSON.stringify(r));
	assert.match(r.command, /leaky_app\.py/);
	reportId = r.report_id;
	const one = await call(client, 'list_leak_reports', { num_reports: 1, report_directory: reportDir });
	assert.equal(one.reports.length, 1);
});

await check('get_leak_report', async () => {
	const res = await call(client, 'get_leak_report', { report_id: reportId, num_iterations: 0 });
	assert.equal(res.report_id, reportId);
	assert.equal(res.summary.report_id, reportId);
	assert.ok(res.iterations.length >= 2, `${res.iterations.length} iterations`);
	const last = res.iterations[res.iterations.length - 1];
	assert.ok(last.leak_summary.type_summaries.some((t) => t.object_type === '__main__.Session'),
		'no __main__.Session leak');
	const filtered = await call(client, 'get_leak_report', { report_id: reportId, filter_types: ['Session'] });
	assert.equal(filtered.iterations.length, 1);
	const it = filtered.iterations[0];
	assert.ok(it.leak_summary.type_summaries.length > 0);
	for (const t of it.leak_summary.type_summaries) assert.match(t.object_type, /Session/);
	for (const d of it.object_details_list) assert.match(d.object_type_name, /Session/);
	assert.ok(it.object_details_list.length > 0, 'no object details');
	iteration = it.iteration_number;
	object = it.object_details_list[0];
});

await check('get_object_details', async () => {
	const res = await call(client, 'get_object_details',
		{ report_id: reportId, iteration, object_id: object.object_id });
	assert.equal(res.report_id, reportId);
	assert.equal(res.iteration, iteration);
	assert.equal(res.object_id, object.object_id);
	assert.deepEqual(res.referrer_graph, object.referrer_graph);
	assert.ok(res.referrer_graph.root_ids.length > 0, 'no root in the referrer graph');
});

await check('tool errors are isError results', async () => {
	await callError(client, 'get_leak_report', { report_id: '../../etc' }, /not a report ID/);
	await callError(client, 'get_leak_report', { report_id: 'zzzz-0000' }, /no report/);
	await callError(client, 'list_leak_reports', { report_directory: '/etc' }, /outside/);
	await callError(client, 'get_object_details', { report_id: reportId, iteration: 9999, object_id: 1 },
		/no iteration/);
});

await check('unknown tools and bad arguments are -32602', async () => {
	for (const [name, a] of [['no_such_tool', {}], ['get_leak_report', {}],
		['list_leak_reports', { num_reports: 'x' }], ['list_leak_reports', { what: 1 }]]) {
		await assert.rejects(client.callTool({ name, arguments: a }),
			(e) => e instanceof McpError && e.code === ErrorCode.InvalidParams, `${name} ${JSON.stringify(a)}`);
	}
});

if (pid) {
	await check('snapshot_process', async () => {
		const res = await call(client, 'snapshot_process', { pid });
		assert.equal(res.pid, pid);
		assert.ok(res.total_objects > 0 && res.types.length > 0);
		const why = await call(client, 'snapshot_process', { pid, why: '__main__.Session' });
		assert.ok(why.object_details.length > 0, 'no details for __main__.Session');
		await callError(client, 'snapshot_process', { pid: 2147483647 }, /no process/);
	});
}

await check('resources', async () => {
	const { resources } = await client.listResources();
	const uri = `memalot://reports/${reportId}`;
	const r = resources.find((x) => x.uri === uri);
	assert.ok(r, `${uri} not listed`);
	assert.equal(r.mimeType, 'application/json');
	const { contents } = await client.readResource({ uri });
	assert.equal(contents[0].uri, uri);
	const doc = JSON.parse(contents[0].text);
	assert.equal(doc.report_id, reportId);
	assert.ok(doc.iterations.length >= 2);
	const { resourceTemplates } = await client.listResourceTemplates();
	assert.ok(Array.isArray(resourceTemplates));
	await assert.rejects(client.readResource({ uri: 'memalot://reports/../../etc/passwd' }),
		(e) => e instanceof McpError && e.code === -32002);
});

await check('prompts/list', async () => {
	assert.deepEqual((await client.listPrompts()).prompts, []);
});

await check('close', async () => {
	await client.close();
});

if (failed) console.error(`memalot mcp stderr:\n${stderr}`);
console.error(`${failed ? 'FAIL' : 'PASS'}: ${failed} check(s) failed`);
process.exit(failed ? 1 : 0);
