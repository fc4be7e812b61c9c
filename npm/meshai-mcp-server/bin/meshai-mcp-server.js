#!/usr/bin/env node
// Launcher for meshai-mcp-server: finds the Go binary in the platform package npm installed beside this one
// (an optional dependency), checks its SHA-256 against the one this package ships, and runs it with this process's
// arguments and stdio. It writes nothing to stdout, which belongs to JSON-RPC, downloads nothing, and passes
// signals and the exit status through. A binary named by MESHAI_MCP_SERVER_BINARY is the user's own: not checked.
'use strict'

const PLATFORMS = ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-arm64', 'win32-x64']
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP']
const REPO = 'github.com/meshailabs-org/meshai-mcp-server'

// target maps a Node platform and arch to the platform package and the binary's file name in its bin/,
// or null where no package is published.
function target (platform, arch) {
  const key = platform + '-' + arch
  if (!PLATFORMS.includes(key)) return null
  return {
    key,
    pkg: '@meshai/mcp-server-' + key,
    file: platform === 'win32' ? 'meshai-mcp-server.exe' : 'meshai-mcp-server'
  }
}

// missingMessage says why there is no binary and exactly what to run to get one.
function missingMessage (platform, arch, version) {
  const t = target(platform, arch)
  if (!t) {
    const at = /^\d+\.\d+\.\d+$/.test(version) ? 'v' + version : 'latest'
    return [
      `meshai-mcp-server: there is no prebuilt binary for ${platform}-${arch} (there is one for ${PLATFORMS.join(', ')}).`,
      'Build it from source with Go 1.26 or newer:',
      `  go install ${REPO}/cmd/meshai-mcp-server@${at}`,
      'then use the binary it puts in $(go env GOPATH)/bin as the command in your MCP client, or set',
      'MESHAI_MCP_SERVER_BINARY to its path.',
      ''
    ].join('\n')
  }
  return [
    `meshai-mcp-server: the package ${t.pkg}, which holds the meshai-mcp-server binary for ${t.key}, is not installed.`,
    'npm installs it as an optional dependency of meshai-mcp-server; it is left out when optional dependencies are',
    'omitted (--omit=optional, --no-optional, npm_config_omit=optional) or when a lockfile made on another OS lacks it.',
    'To fix it, run (add -g for a global install):',
    `  npm install --include=optional meshai-mcp-server@${version}`,
    'or install the platform package itself:',
    `  npm install ${t.pkg}@${version}`,
    'If a lockfile from another OS is the cause, delete node_modules and package-lock.json and run npm install again.',
    "With npx, delete the _npx folder in npm's cache (npm config get cache) and run npx again.",
    'Or set MESHAI_MCP_SERVER_BINARY to the path of a meshai-mcp-server binary.',
    ''
  ].join('\n')
}

// locate finds the binary to run: $MESHAI_MCP_SERVER_BINARY, else the platform package's. It returns {bin} or,
// when there is none, {message} for stderr. resolve is require.resolve; version() this package's version.
function locate (platform, arch, env, resolve, version) {
  if (env.MESHAI_MCP_SERVER_BINARY) return { bin: env.MESHAI_MCP_SERVER_BINARY }
  const t = target(platform, arch)
  if (!t) return { message: missingMessage(platform, arch, version()) }
  let manifest
  try {
    manifest = resolve(t.pkg + '/package.json')
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') return { message: missingMessage(platform, arch, version()) }
    throw err
  }
  const path = require('path')
  return { bin: path.join(path.dirname(manifest), 'bin', t.file), pkg: t.pkg, key: t.key, manifest }
}

// sha256File hashes a file through one 64 KiB buffer: for an 8.5 MB binary that costs about 9 ms of CPU here,
// where reading it whole first (readFileSync) costs 10-20 ms, most of it faulting in a fresh 8.5 MB buffer.
function sha256File (file) {
  const fs = require('fs')
  const hash = require('crypto').createHash('sha256')
  const buf = Buffer.allocUnsafe(64 * 1024)
  const fd = fs.openSync(file, 'r')
  try {
    let n
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  return hash.digest('hex')
}

// checkBinary compares the SHA-256 of the platform package's binary with the one this package ships for that
// platform (binarySha256 in its package.json, written by scripts/build-npm). It returns null when they match, else
// the message for stderr, which says what to do. own is this package's manifest; platformVersion the platform
// package's version, when known.
function checkBinary (bin, key, pkg, own, platformVersion) {
  const want = own && own.binarySha256 && own.binarySha256[key]
  const version = own && own.version
  const reinstall = [
    'To fix it, reinstall both packages at one version (add -g for a global install):',
    `  npm install meshai-mcp-server@${version} ${pkg}@${version}`,
    "With npx, delete the _npx folder in npm's cache (npm config get cache) and run npx again.",
    'If you built the binary yourself, set MESHAI_MCP_SERVER_BINARY to its path: that binary is run unchecked.',
    ''
  ]
  if (!/^[0-9a-f]{64}$/.test(want || '')) {
    return [
      `meshai-mcp-server: this package (meshai-mcp-server@${version}) has no SHA-256 for the ${key} binary,`,
      `so it will not run ${bin}: the package was built without the ${key} target or its package.json was edited.`,
      ...reinstall
    ].join('\n')
  }
  let got
  try {
    got = sha256File(bin)
  } catch (err) {
    return [`meshai-mcp-server: cannot read ${bin} to check it: ${err.message}`, ...reinstall].join('\n')
  }
  if (got === want) return null
  const other = platformVersion && platformVersion !== version
    ? ` (${pkg} is version ${platformVersion}, this package ${version}: they must be the same)`
    : ''
  return [
    `meshai-mcp-server: refusing to run ${bin}: its SHA-256 is ${got},`,
    `but meshai-mcp-server@${version} ships ${want} for ${key}${other}.`,
    'The binary was changed after npm installed it, or the install is damaged or mixes versions.',
    ...reinstall
  ].join('\n')
}

function ownManifest () {
  try {
    return require('../package.json')
  } catch (_) {
    return null
  }
}

function ownVersion () {
  try {
    return require('../package.json').version
  } catch (_) {
    return 'latest'
  }
}

function main () {
  const found = locate(process.platform, process.arch, process.env, require.resolve, ownVersion)
  if (!found.bin) {
    process.stderr.write(found.message)
    process.exitCode = 1
    return
  }
  if (found.pkg) {
    let platformVersion
    try { platformVersion = require(found.manifest).version } catch (_) {}
    const refused = checkBinary(found.bin, found.key, found.pkg, ownManifest(), platformVersion)
    if (refused) {
      process.stderr.write(refused)
      process.exitCode = 1
      return
    }
  }
  const child = require('child_process').spawn(found.bin, process.argv.slice(2), { stdio: 'inherit', windowsHide: true })
  const forward = (signal) => { child.kill(signal) }
  for (const s of SIGNALS) {
    try { process.on(s, forward) } catch (_) {} // a signal this platform lacks
  }
  let failed = false
  child.on('error', (err) => { // the binary did not start: missing, not executable, ...
    failed = true
    for (const s of SIGNALS) process.removeListener(s, forward)
    const fix = found.pkg
      ? `; reinstall it: npm install ${found.pkg}@${ownVersion()}`
      : ' (the path is from MESHAI_MCP_SERVER_BINARY)'
    process.stderr.write(`meshai-mcp-server: cannot run ${found.bin}: ${err.message}${fix}\n`)
    process.exitCode = 1
  })
  child.on('exit', (code, signal) => {
    if (failed) return
    if (signal) {
      // End the way the binary ended, so that whoever started us sees the signal.
      for (const s of SIGNALS) process.removeListener(s, forward)
      try { process.kill(process.pid, signal) } catch (_) {}
      // Still here: the signal is one Node ignores, or this is Windows. Exit as a shell would report it.
      const n = require('os').constants.signals[signal]
      process.exit(n ? 128 + n : 1)
    }
    process.exit(code === null ? 1 : code)
  })
}

module.exports = { PLATFORMS, target, missingMessage, locate, checkBinary }

if (require.main === module) main()
