'use strict'
// Tests of the launcher's SHA-256 check of the platform binary: run with node --test npm/test/

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const { spawnSync } = require('node:child_process')

const LAUNCHER = path.join(__dirname, '..', 'meshai-mcp-server', 'bin', 'meshai-mcp-server.js')
const { checkBinary, target } = require(LAUNCHER)

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex')

function tempDir (t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshai-launcher-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('checkBinary: a matching binary passes, any other refuses with what to do', (t) => {
  const dir = tempDir(t)
  const bin = path.join(dir, 'meshai-mcp-server')
  fs.writeFileSync(bin, 'the real binary')
  const own = { version: '1.2.3', binarySha256: { 'linux-x64': sha256('the real binary') } }
  const pkg = '@meshai/mcp-server-linux-x64'
  assert.equal(checkBinary(bin, 'linux-x64', pkg, own, '1.2.3'), null)

  const fix = '  npm install meshai-mcp-server@1.2.3 @meshai/mcp-server-linux-x64@1.2.3\n'
  const cases = [
    { name: 'tampered', write: 'the real binary, patched', own, want: [/refusing to run .*meshai-mcp-server: its SHA-256 is [0-9a-f]{64},/, /ships [0-9a-f]{64} for linux-x64\./, /changed after npm installed it/] },
    { name: 'platform package of another version', write: 'another release', own, platformVersion: '1.2.2', want: [/@meshai\/mcp-server-linux-x64 is version 1\.2\.2, this package 1\.2\.3: they must be the same/] },
    { name: 'no checksum for this platform', own: { version: '1.2.3', binarySha256: { 'darwin-arm64': sha256('x') } }, want: [/has no SHA-256 for the linux-x64 binary/, /built without the linux-x64 target/] },
    { name: 'no checksums at all', own: { version: '1.2.3' }, want: [/has no SHA-256 for the linux-x64 binary/] },
    { name: 'a malformed checksum', own: { version: '1.2.3', binarySha256: { 'linux-x64': 'abc' } }, want: [/has no SHA-256 for the linux-x64 binary/] },
    { name: 'binary unreadable', remove: true, own, want: [/cannot read .*meshai-mcp-server to check it: ENOENT/] }
  ]
  for (const c of cases) {
    if (c.write) fs.writeFileSync(bin, c.write)
    if (c.remove) fs.rmSync(bin)
    const msg = checkBinary(bin, 'linux-x64', pkg, c.own, c.platformVersion || '1.2.3')
    assert.ok(msg, c.name)
    for (const re of c.want) assert.match(msg, re, c.name)
    assert.ok(msg.includes(fix), `${c.name}: ${msg}`)
    assert.match(msg, /MESHAI_MCP_SERVER_BINARY/, c.name)
    assert.match(msg, /_npx/, c.name)
    assert.ok(msg.endsWith('\n'), c.name)
  }
})

// install lays out node_modules as npm does for this machine: the main package (this launcher, a package.json with
// binarySha256 for the binary given) and the platform package holding a stand-in binary that prints "ran" and its
// arguments. It returns the installed launcher and binary.
function install (dir, key) {
  const t = target(...key.split('-'))
  const main = path.join(dir, 'node_modules', 'meshai-mcp-server')
  const plat = path.join(dir, 'node_modules', t.pkg)
  fs.mkdirSync(path.join(main, 'bin'), { recursive: true })
  fs.mkdirSync(path.join(plat, 'bin'), { recursive: true })
  fs.copyFileSync(LAUNCHER, path.join(main, 'bin', 'meshai-mcp-server.js'))
  const bin = path.join(plat, 'bin', t.file)
  if (process.platform === 'win32') {
    fs.copyFileSync(process.env.ComSpec || 'C:\\Windows\\System32\\cmd.exe', bin)
  } else {
    fs.writeFileSync(bin, '#!/bin/sh\necho ran "$@"\n', { mode: 0o755 })
  }
  const sum = sha256(fs.readFileSync(bin))
  fs.writeFileSync(path.join(main, 'package.json'), JSON.stringify({ name: 'meshai-mcp-server', version: '1.2.3', binarySha256: { [key]: sum } }))
  fs.writeFileSync(path.join(plat, 'package.json'), JSON.stringify({ name: t.pkg, version: '1.2.3' }))
  return { launcher: path.join(main, 'bin', 'meshai-mcp-server.js'), bin }
}

function runLauncher (launcher) {
  const args = process.platform === 'win32' ? ['/d', '/c', 'echo', 'ran'] : ['x']
  const env = { ...process.env }
  delete env.MESHAI_MCP_SERVER_BINARY
  return spawnSync(process.execPath, [launcher, ...args], { env, encoding: 'utf8' })
}

test('the installed launcher runs the binary its package has the SHA-256 of', (t) => {
  const key = process.platform + '-' + process.arch
  if (!target(process.platform, process.arch)) return t.skip(`no platform package for ${key}`)
  const { launcher } = install(tempDir(t), key)
  const r = runLauncher(launcher)
  assert.equal(r.stderr, '')
  assert.match(r.stdout, /^ran/)
  assert.equal(r.status, 0)
})

test('the installed launcher refuses a tampered binary: nothing on stdout, the fix on stderr, exit 1', (t) => {
  const key = process.platform + '-' + process.arch
  if (!target(process.platform, process.arch)) return t.skip(`no platform package for ${key}`)
  const { launcher, bin } = install(tempDir(t), key)
  fs.appendFileSync(bin, process.platform === 'win32' ? Buffer.from([0]) : 'echo tampered\n')
  const r = runLauncher(launcher)
  assert.equal(r.stdout, '', 'the tampered binary must not run')
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^meshai-mcp-server: refusing to run .*: its SHA-256 is [0-9a-f]{64},\n/)
  assert.ok(r.stderr.includes(`  npm install meshai-mcp-server@1.2.3 @meshai/mcp-server-${key}@1.2.3\n`), r.stderr)
})
