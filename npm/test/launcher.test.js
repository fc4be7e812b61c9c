'use strict'
// Unit tests of the npm launcher (npm/meshai-mcp-server/bin/meshai-mcp-server.js): run with node --test npm/test/

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')

const LAUNCHER = path.join(__dirname, '..', 'meshai-mcp-server', 'bin', 'meshai-mcp-server.js')
const { PLATFORMS, target, missingMessage, locate } = require(LAUNCHER)
const manifest = require('../meshai-mcp-server/package.json')

const notFound = () => { const e = new Error('Cannot find module'); e.code = 'MODULE_NOT_FOUND'; throw e }

test('the six platforms map to their package and binary file', () => {
  const want = {
    'darwin arm64': ['@meshai/mcp-server-darwin-arm64', 'meshai-mcp-server'],
    'darwin x64': ['@meshai/mcp-server-darwin-x64', 'meshai-mcp-server'],
    'linux arm64': ['@meshai/mcp-server-linux-arm64', 'meshai-mcp-server'],
    'linux x64': ['@meshai/mcp-server-linux-x64', 'meshai-mcp-server'],
    'win32 arm64': ['@meshai/mcp-server-win32-arm64', 'meshai-mcp-server.exe'],
    'win32 x64': ['@meshai/mcp-server-win32-x64', 'meshai-mcp-server.exe']
  }
  for (const [k, [pkg, file]] of Object.entries(want)) {
    const [platform, arch] = k.split(' ')
    assert.deepEqual(target(platform, arch), { key: `${platform}-${arch}`, pkg, file }, k)
  }
  assert.equal(PLATFORMS.length, 6)
})

test('unsupported platforms have no package', () => {
  for (const [p, a] of [['freebsd', 'x64'], ['linux', 'arm'], ['linux', 'ia32'], ['win32', 'ia32'], ['android', 'arm64'],
    ['darwin', 'ppc64'], ['sunos', 'x64'], ['aix', 'ppc64'], ['linux', 'riscv64']]) {
    assert.equal(target(p, a), null, `${p}-${a}`)
  }
})

test('the main package depends on exactly the launcher platforms, all at one version', () => {
  assert.deepEqual(Object.keys(manifest.optionalDependencies).sort(), PLATFORMS.map((p) => '@meshai/mcp-server-' + p).sort())
  for (const v of Object.values(manifest.optionalDependencies)) assert.equal(v, manifest.version)
  assert.equal(manifest.bin['meshai-mcp-server'], 'bin/meshai-mcp-server.js')
  assert.equal(manifest.scripts, undefined, 'no install scripts')
})

test('the binary is found in the platform package, with .exe on win32', () => {
  for (const p of PLATFORMS) {
    const [platform, arch] = p.split('-')
    const seen = []
    const got = locate(platform, arch, {}, (id) => { seen.push(id); return path.join('/nm', id) }, () => '1.2.3')
    const file = platform === 'win32' ? 'meshai-mcp-server.exe' : 'meshai-mcp-server'
    assert.deepEqual(seen, [`@meshai/mcp-server-${p}/package.json`])
    assert.equal(got.bin, path.join('/nm', `@meshai/mcp-server-${p}`, 'bin', file))
  }
})

test('MESHAI_MCP_SERVER_BINARY overrides the package, on every platform and unsupported ones', () => {
  for (const [p, a] of [['linux', 'x64'], ['win32', 'x64'], ['freebsd', 'x64']]) {
    const got = locate(p, a, { MESHAI_MCP_SERVER_BINARY: '/opt/m/meshai-mcp-server' }, () => assert.fail('resolved'), () => '1.2.3')
    assert.deepEqual(got, { bin: '/opt/m/meshai-mcp-server' })
  }
  // empty means unset
  const got = locate('linux', 'x64', { MESHAI_MCP_SERVER_BINARY: '' }, notFound, () => '1.2.3')
  assert.equal(got.bin, undefined)
})

test('a missing platform package gives the commands that fix it, with the version', () => {
  for (const p of PLATFORMS) {
    const [platform, arch] = p.split('-')
    const got = locate(platform, arch, {}, notFound, () => '1.2.3')
    assert.equal(got.bin, undefined)
    assert.equal(got.message, missingMessage(platform, arch, '1.2.3'))
    assert.match(got.message, new RegExp(`@meshai/mcp-server-${p}, which holds the meshai-mcp-server binary for ${p}, is not installed`))
    assert.ok(got.message.includes('  npm install --include=optional meshai-mcp-server@1.2.3\n'), got.message)
    assert.ok(got.message.includes(`  npm install @meshai/mcp-server-${p}@1.2.3\n`), got.message)
    assert.match(got.message, /--omit=optional/)
    assert.match(got.message, /MESHAI_MCP_SERVER_BINARY/)
  }
})

test('other resolution errors are not reported as a missing package', () => {
  const boom = () => { const e = new Error('EACCES'); e.code = 'EACCES'; throw e }
  assert.throws(() => locate('linux', 'x64', {}, boom, () => '1.2.3'), /EACCES/)
})

test('an unsupported platform says so and how to build from source', () => {
  const got = locate('freebsd', 'x64', {}, () => assert.fail('resolved'), () => '1.2.3')
  assert.match(got.message, /no prebuilt binary for freebsd-x64/)
  assert.ok(got.message.includes('go install github.com/meshailabs-org/meshai-mcp-server/cmd/meshai-mcp-server@v1.2.3'))
  // a pre-release has no tag to install: latest
  assert.ok(missingMessage('linux', 'arm', '0.1.0-dev').includes('/cmd/meshai-mcp-server@latest'))
})

// run starts the launcher as a client would and collects what it writes.
function run (args, env, onStderr) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAUNCHER, ...args], {
      env: { ...process.env, NODE_PATH: '', ...env }, stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''; let stderr = ''
    child.stdout.on('data', (b) => { stdout += b })
    child.stderr.on('data', (b) => { stderr += b; if (onStderr) onStderr(stderr, child) })
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

test('without the platform package the launcher prints the fix on stderr only and exits 1', async () => {
  // In this source tree no platform package is installed.
  const r = await run(['--version'], { MESHAI_MCP_SERVER_BINARY: '' })
  assert.equal(r.stdout, '')
  assert.equal(r.code, 1)
  const t = target(process.platform, process.arch)
  if (t) assert.ok(r.stderr.includes(`npm install ${t.pkg}@${manifest.version}`), r.stderr)
  else assert.match(r.stderr, /no prebuilt binary/)
})

test('arguments, stdio and the exit code pass through', async () => {
  const r = await run(['-e', 'process.stderr.write(JSON.stringify(process.argv.slice(1))); process.stdout.write("out"); process.exit(3)', 'a b', '--x'],
    { MESHAI_MCP_SERVER_BINARY: process.execPath })
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out', '["a b","--x"]'])
})

test('a binary that cannot start is reported on stderr, exit 1', async () => {
  const r = await run([], { MESHAI_MCP_SERVER_BINARY: path.join(__dirname, 'no-such-binary') })
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /cannot run .*no-such-binary: .*ENOENT.*MESHAI_MCP_SERVER_BINARY/)
})

test('SIGTERM to the launcher reaches the binary, whose exit code comes back', { skip: process.platform === 'win32' }, async () => {
  const child = 'process.on("SIGTERM", () => process.exit(7)); process.stderr.write("ready\\n"); setInterval(() => {}, 1000)'
  let sent = false
  const r = await run(['-e', child], { MESHAI_MCP_SERVER_BINARY: process.execPath }, (stderr, launcher) => {
    if (!sent && stderr.includes('ready')) { sent = true; launcher.kill('SIGTERM') }
  })
  assert.deepEqual([r.code, r.signal, r.stdout], [7, null, ''])
})

test('a binary killed by a signal makes the launcher end by that signal', { skip: process.platform === 'win32' }, async () => {
  const r = await run(['-e', 'process.kill(process.pid, "SIGKILL")'], { MESHAI_MCP_SERVER_BINARY: process.execPath })
  assert.equal(r.stdout, '')
  assert.ok(r.signal === 'SIGKILL' || r.code === 137, `code ${r.code} signal ${r.signal}`)
})
