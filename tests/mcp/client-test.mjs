// SPDX-License-Identifier: MIT
// memalot mcp driven by the official MCP TypeScript SDK client: every tool, resource and list, every structured result checked against its outputSchema, which must require what the README promises.
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

// What the README promises each tool returns: at each place in a result (a
// path of members, "[]" for every item of an array, "" for the result), the
// members its outputSchema must require.
const details = ['object_type_name', 'object_id', 'object_str', 'shallow_size_bytes', 'deep_size_bytes',
	'deep_size_complete', 'deep_size_objects', 'retained_size_bytes', 'referrers_checked', 'referrer_graph'];
const group = ['root', 'root_kind', 'path', 'object_count', 'retained_size_bytes', 'retained_size_exact', 'types',
	'total_types'];
const graph = ['target_ids', 'root_ids', 'graph_nodes', 'stopped_by_limit'];
const node = ['id', 'name', 'object_id', 'referent_ids'];
const native = ['rss_bytes', 'uss_bytes', 'pss_bytes', 'anon_bytes', 'heap_bytes', 'swap_bytes', 'fds', 'threads',
	'python_object_bytes'];
const promised = {
	list_leak_reports: {
		'': ['reports', 'total_reports', 'report_directory'],
		'reports[]': ['report_id', 'start_time', 'pid', 'command', 'iterations', 'leaked_objects'],
	},
	get_leak_report: {
		'': ['report_id', 'summary', 'iterations'],
		summary: ['report_id', 'pid', 'command', 'executable', 'python_version', 'host_name', 'start_time',
			'memalot_version', 'max_object_lifetime', 'check_interval', 'warmup_time', 'schema_version'],
		'iterations[]': ['report_id', 'iteration_number', 'pid', 'command', 'start_time', 'end_time',
			'max_object_lifetime', 'memory_usage', 'leak_summary', 'object_details_list',
			'details_matched_objects', 'details_matched_types', 'leak_groups', 'total_leak_groups', 'native',
			'native_growth', 'native_window_growth'],
		'iterations[].native': native,
		'iterations[].native_growth': [...native, 'unexplained_bytes', 'new_fds', 'total_new_fds'],
		'iterations[].native_window_growth': [...native, 'unexplained_bytes'],
		'iterations[].leak_groups[]': group,
		'iterations[].leak_groups[].types[]': ['object_type', 'count'],
		'iterations[].memory_usage': ['rss_bytes', 'peak_rss_bytes', 'rss_change_bytes', 'peak_rss_change_bytes'],
		'iterations[].leak_summary': ['type_summaries', 'total_objects', 'total_types', 'size_computed'],
		'iterations[].leak_summary.type_summaries[]': ['object_type', 'count', 'shallow_size_bytes'],
		'iterations[].object_details_list[]': details,
		'iterations[].object_details_list[].referrer_graph': graph,
		'iterations[].object_details_list[].referrer_graph.graph_nodes[]': node,
	},
	get_object_details: {
		'': ['report_id', 'iteration', ...details],
		referrer_graph: graph,
		'referrer_graph.graph_nodes[]': node,
	},
	snapshot_process: {
		'': ['pid', 'command', 'python_version', 'python_flavour', 'layout_source', 'reader', 'pause_ms', 'tries',
			'interpreters', 'total_objects', 'generations', 'partial', 'types'],
		'types[]': ['type', 'count', 'generations'],
		'object_details[]': details,
		'object_details[].referrer_graph': graph,
		'object_details[].referrer_graph.graph_nodes[]': node,
	},
};

// The objects at path in v (nulls skipped).
function at(v, path) {
	let found = [v];
	for (const seg of path ? path.split('.') : []) {
		const name = seg.replace(/\[\]$/, '');
		found = found.map((o) => o[name]).filter((x) => x !== null && x !== undefined);
		if (seg.endsWith('[]')) found = found.flat();
	}
	return found;
}

// Every promised member is in the result, and the SDK refuses the result
// without it: the outputSchema requires it.
function checkPromised(name, result) {
	const validate = client.getToolOutputValidator(name);
	assert.equal(validate(result).valid, true, `${name}: the SDK refuses the result itself`);
	for (const [path, members] of Object.entries(promised[name])) {
		assert.ok(at(result, path).length > 0, `${name}: nothing at '${path}' to check`);
		for (const m of members) {
			const copy = structuredClone(result);
			for (const o of at(copy, path)) {
				assert.ok(m in o, `${name}: no '${m}' at '${path}': ${JSON.stringify(o).slice(0, 300)}`);
				delete o[m];
			}
			assert.equal(validate(copy).valid, false, `${name}: the outputSchema does not require '${m}' at '${path}'`);
		}
	}
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
if (pid) want.push('snapshot_process', 'watch_process');
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
	checkPromised('list_leak_reports', res);
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
	checkPromised('get_leak_report', res);
});

await check('get_object_details', async () => {
	const res = await call(client, 'get_object_details',
		{ report_id: reportId, iteration, object_id: object.object_id });
	assert.equal(res.report_id, reportId);
	assert.equal(res.iteration, iteration);
	assert.equal(res.object_id, object.object_id);
	assert.deepEqual(res.referrer_graph, object.referrer_graph);
	assert.ok(res.referrer_graph.root_ids.length > 0, 'no root in the referrer graph');
	checkPromised('get_object_details', res);
});

await check('tool errors are isError results', async () => {
	await callError(client, 'get_leak_report', { report_id: '../../etc' }, /not a report ID/);
	await callError(client, 'get_leak_report', { report_id: 'zzzz-0000' }, /no report/);
	await callError(client, 'list_leak_reports', { report_directory: '/etc' }, /outside/);
	await callError(client, 'get_object_details', { report_id: reportId, iteration: 9999, object_id: 1 },
		/no iteration/);
});

await check('unknown tools are -32602, bad arguments tool errors (isError)', async () => {
	await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }),
		(e) => e instanceof McpError && e.code === ErrorCode.InvalidParams, 'no_such_tool');
	await callError(client, 'get_leak_report', {}, /report_id/);
	await callError(client, 'list_leak_reports', { num_reports: 'x' }, /num_reports/);
	await callError(client, 'list_leak_reports', { what: 1 }, /what/);
});

if (pid) {
	await check('snapshot_process', async () => {
		const res = await call(client, 'snapshot_process', { pid });
		assert.equal(res.pid, pid);
		assert.ok(res.total_objects > 0 && res.types.length > 0);
		const why = await call(client, 'snapshot_process', { pid, why: '__main__.Session' });
		assert.ok(why.object_details.length > 0, 'no details for __main__.Session');
		checkPromised('snapshot_process', why);
		await callError(client, 'snapshot_process', { pid: 2147483647 }, /no process/);
	});
	await check('watch_process', async () => {
		// a short watch: the warm-up report and one with the leak, saved where the server reads
		const res = await call(client, 'watch_process',
			{ pid, max_object_lifetime: 0.5, duration: 2.5, included_type_names: ['Session'] });
		assert.equal(res.pid, pid);
		assert.equal(res.exit_code, 0, res.messages);
		assert.match(res.report_id, /^[a-z0-9]{4}-[a-z0-9]{4}$/);
		assert.ok(res.iterations.length >= 2, `${res.iterations.length} iterations`);
		assert.ok(res.iterations.some((it) => it.leak_summary.total_objects > 0), 'no leak in the watch');
		await callError(client, 'watch_process', { pid: 2147483647, duration: 1 }, /no process/);
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
