#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Lints the Yocto layer and the Buildroot external tree without BitBake or Buildroot
(neither is packaged in Debian, and CI has no network for them).

Yocto (deploy/yocto/meta-ion-agent):
  - every .bb/.bbappend/.inc/.conf parses as BitBake statements (assignments with their
    operators and quoting, inherit/include/require, shell and python functions); inline
    python ${@...} and python functions are compiled with Python's own parser;
  - old override syntax (_append, _${PN}) is refused: kirkstone and scarthgap reject it;
  - layer.conf: collection, pattern, priority, LAYERSERIES_COMPAT naming both releases;
  - recipe: required variables, SRC_URI form, SRCREV, LIC_FILES_CHKSUM md5 equal to the
    md5 of the file it names, inherit cmake/pkgconfig/systemd/useradd, PACKAGECONFIG for
    both libgpiod generations, SYSTEMD_SERVICE naming a unit this repo ships, DEPENDS and
    RDEPENDS naming known OE recipes, every -D option an existing CMake cache variable;
  - offline parsing and conventions: the recipe is ion-agent_git.bb with PV "<project
    version>+git", a pinned 40-digit SRCREV (AUTOREV makes bitbake run git ls-remote even
    with BB_NO_NETWORK), SRC_URI taken from an overridable ION_AGENT_SRC_URI ?= ...,
    libgpiod always in DEPENDS and the v1/v2 default not derived from the release name,
    EXTRA_OECMAKE appended to (+=), no hard-coded paths in USERADD_PARAM, the state
    directory passed to CMake and used as the user's home from one ION_AGENT_STATE_DIR;
    image fragments do not use IMAGE_INSTALL:append/+= (reaches initramfs images); every
    recipe file the docs name exists.
Buildroot (deploy/buildroot):
  - external.desc, external.mk, Config.in sourcing files that exist;
  - Config.in: every symbol used is defined in the tree or is a known Buildroot symbol
    (list below); parsed with kconfiglib too when it is installed;
  - ion-agent.mk: required variables, cmake-package, dependencies known and consistent with
    the Config.in selects, ION_AGENT_USERS well formed, -D options exist;
  - conventions: select BR2_PACKAGE_LIBCURL_FORCE_TLS with libcurl, depends on
    BR2_INIT_SYSTEMD, the unit enabled by a preset (not a fixed .wants symlink, which
    `systemctl disable` cannot remove), a local site method excluding the checkout's build
    directories, one ION_AGENT_STATE_DIR for CONF_OPTS and the user's home;
  - ion-agent.hash: a sha256 line for every license file, equal to the file's sha256.
Prints "file:line: reason" for each finding; exit status 1 if there is any.
Usage: lint_metadata.py [--root REPO] [--yocto DIR] [--buildroot DIR]"""
import argparse
import ast
import hashlib
import os
import re
import sys

# Buildroot symbols and package names the tree may use (Buildroot 2023.02 .. 2025.x).
BR_SYMBOLS = {
    "BR2_USE_MMU", "BR2_INSTALL_LIBSTDCPP", "BR2_TOOLCHAIN_HAS_THREADS",
    "BR2_TOOLCHAIN_GCC_AT_LEAST_7", "BR2_TOOLCHAIN_GCC_AT_LEAST_8",
    "BR2_TOOLCHAIN_HEADERS_AT_LEAST_4_8", "BR2_TOOLCHAIN_HEADERS_AT_LEAST_5_10",
    "BR2_INIT_SYSTEMD", "BR2_PACKAGE_SYSTEMD", "BR2_PACKAGE_MBEDTLS", "BR2_PACKAGE_LIBCURL",
    "BR2_PACKAGE_CJSON", "BR2_PACKAGE_SQLITE", "BR2_PACKAGE_LIBGPIOD", "BR2_PACKAGE_LIBGPIOD2",
    "BR2_PACKAGE_LIBGPIOD_TOOLS", "BR2_PACKAGE_LIBGPIOD2_TOOLS", "BR2_PACKAGE_CA_CERTIFICATES",
    "BR2_PACKAGE_OPENSSL", "BR2_PACKAGE_CPPUTEST", "BR2_PACKAGE_LIBCURL_FORCE_TLS",
}
BR_PACKAGES = {  # package name in *_DEPENDENCIES -> the symbol that enables it
    "host-pkgconf": None, "mbedtls": "BR2_PACKAGE_MBEDTLS", "libcurl": "BR2_PACKAGE_LIBCURL",
    "cjson": "BR2_PACKAGE_CJSON", "sqlite": "BR2_PACKAGE_SQLITE",
    "libgpiod": "BR2_PACKAGE_LIBGPIOD", "libgpiod2": "BR2_PACKAGE_LIBGPIOD2",
    "systemd": "BR2_PACKAGE_SYSTEMD", "openssl": "BR2_PACKAGE_OPENSSL",
    "cpputest": "BR2_PACKAGE_CPPUTEST",
}
# OE recipes / packages in oe-core, meta-oe, meta-networking (kirkstone and scarthgap).
OE_RECIPES = {"mbedtls", "curl", "cjson", "sqlite3", "libgpiod", "cpputest", "systemd",
              "ca-certificates", "libgpiod-tools", "usbutils", "ion-agent", "packagegroup-ion-agent"}
OE_RELEASES = {"kirkstone", "scarthgap"}

ASSIGN = re.compile(
    r"^(export\s+)?(?P<var>[A-Za-z0-9_][A-Za-z0-9_\-.+/${}:~]*)(\[(?P<flag>[A-Za-z0-9_\-.+]+)\])?"
    r"\s*(?P<op>\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(?P<q>[\"'])(?P<val>.*)(?P=q)\s*$", re.S)
DIRECTIVE = re.compile(r"^(inherit|inherit_defer|include|require|addtask|deltask|addhandler|"
                       r"EXPORT_FUNCTIONS|unset|export)\s+\S")
SHELL_FN = re.compile(r"^(fakeroot\s+)?(?P<name>[A-Za-z0-9_\-${}:.]+)\s*\(\s*\)\s*\{\s*$")
PY_FN = re.compile(r"^(fakeroot\s+)?python\s+(?P<name>[A-Za-z0-9_\-${}:.]*)\s*\(\s*\)\s*\{\s*$")
OLD_OVERRIDE = re.compile(r"_(append|prepend|remove)(\b|_)|_\$\{PN\}")


class Lint:
    def __init__(self, root):
        self.root = root
        self.errors = []

    def err(self, path, line, msg):
        rel = os.path.relpath(path, self.root)
        self.errors.append(f"{rel}:{line}: {msg}")


# --- BitBake ---------------------------------------------------------------------------
def bb_logical_lines(text):
    """Joins backslash continuations; yields (first line number, text)."""
    buf, start = [], None
    for n, raw in enumerate(text.splitlines(), 1):
        if start is None:
            start = n
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            buf.append(raw[:-1])
            continue
        buf.append(raw)
        yield start, "\n".join(buf)
        buf, start = [], None
    if buf:
        yield start, "\n".join(buf)


def inline_python(value):
    """Yields the expressions of ${@...} in value, matching braces."""
    i = 0
    while True:
        i = value.find("${@", i)
        if i < 0:
            return
        depth, j = 1, i + 3
        while j < len(value) and depth:
            depth += {"{": 1, "}": -1}.get(value[j], 0)
            j += 1
        if depth:
            raise ValueError("unterminated ${@...}")
        yield value[i + 3:j - 1]
        i = j


def parse_bitbake(lint, path):
    """Returns {var: [(line, op, value, flag)]} after checking every statement."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    variables, inherits = {}, []
    lines = list(bb_logical_lines(text))
    k = 0
    while k < len(lines):
        n, line = lines[k]
        k += 1
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m_sh, m_py = SHELL_FN.match(s), PY_FN.match(s)
        if m_sh or m_py or s.startswith("def "):
            body = []
            if s.startswith("def "):
                body.append(s)
                while k < len(lines) and (lines[k][1].startswith((" ", "\t")) or not lines[k][1].strip()):
                    body.append(lines[k][1])
                    k += 1
            else:
                while k < len(lines) and lines[k][1].rstrip() != "}":
                    body.append(lines[k][1])
                    k += 1
                if k == len(lines):
                    lint.err(path, n, "function body has no closing '}' in column 1")
                    break
                k += 1
            if m_py or s.startswith("def "):
                src = "\n".join(body)
                try:
                    ast.parse(src if s.startswith("def ") else "def _f():\n" + (
                        "\n".join("    " + b for b in body) or "    pass"))
                except SyntaxError as e:
                    lint.err(path, n, f"python function does not compile: {e.msg}")
            continue
        m = ASSIGN.match(s)
        if m:
            var, val = m.group("var"), m.group("val")
            if m.group("q") in val:
                lint.err(path, n, f"{var}: unescaped {m.group('q')} inside the value")
            if OLD_OVERRIDE.search(var):
                lint.err(path, n, f"{var}: old override syntax; use ':' (e.g. FILES:${{PN}}, :append)")
            if val.count("${") > val.count("}"):
                lint.err(path, n, f"{var}: unbalanced ${{...}}")
            try:
                for expr in inline_python(val):
                    ast.parse(expr.replace("\n", " "), mode="eval")
            except (SyntaxError, ValueError) as e:
                lint.err(path, n, f"{var}: inline python does not compile: {e}")
            variables.setdefault(var, []).append((n, m.group("op"), val, m.group("flag")))
            continue
        if DIRECTIVE.match(s):
            if s.startswith("inherit"):
                inherits.extend(s.split()[1:])
            continue
        lint.err(path, n, f"not a BitBake statement: {s.splitlines()[0][:60]!r}")
    return variables, inherits


def first(variables, name, flag=None):
    for n, op, val, fl in variables.get(name, []):
        if fl == flag:
            return n, val
    return None, None


def cmake_cache_vars(root):
    names = set()
    for d, _, files in os.walk(root):
        if "/build" in d or "/.git" in d:
            continue
        for f in files:
            if f == "CMakeLists.txt" or f.endswith(".cmake"):
                with open(os.path.join(d, f), encoding="utf-8", errors="replace") as h:
                    src = h.read()
                names |= set(re.findall(r"\bset\(\s*([A-Z0-9_]+)[^)]*\bCACHE\b", src, re.S))
                names |= set(re.findall(r"\boption\(\s*([A-Z0-9_]+)", src))
    return names | {"BUILD_TESTING", "CMAKE_BUILD_TYPE"}


def check_defines(lint, path, line, text, known):
    for d in re.findall(r"-D([A-Za-z0-9_]+)=", text):
        if d not in known:
            lint.err(path, line, f"-D{d}: no such CMake cache variable or option in this repo")


def lint_yocto(lint, layer):
    conf = os.path.join(layer, "conf", "layer.conf")
    if not os.path.isfile(conf):
        lint.err(conf, 0, "missing")
        return
    v, _ = parse_bitbake(lint, conf)
    _, coll = first(v, "BBFILE_COLLECTIONS")
    name = (coll or "").split()[0] if coll else None
    if not name:
        lint.err(conf, 0, "BBFILE_COLLECTIONS is not set")
        name = "?"
    for var in ("BBFILE_PATTERN_", "BBFILE_PRIORITY_", "LAYERSERIES_COMPAT_", "LAYERDEPENDS_"):
        if first(v, var + name)[1] is None:
            lint.err(conf, 0, f"{var}{name} is not set")
    n, compat = first(v, "LAYERSERIES_COMPAT_" + name)
    if compat is not None and not OE_RELEASES <= set(compat.split()):
        lint.err(conf, n, f"LAYERSERIES_COMPAT_{name} must name {sorted(OE_RELEASES)}: {compat!r}")
    if "BBFILES" not in v or "BBPATH" not in v:
        lint.err(conf, 0, "BBFILES and BBPATH must be extended")

    known_cmake = cmake_cache_vars(lint.root)
    recipes = []
    for d, _, files in os.walk(layer):
        for f in sorted(files):
            p = os.path.join(d, f)
            if f.endswith((".bb", ".bbappend")):
                recipes.append(p)
            elif f.endswith((".inc", ".conf")) and p != conf:
                iv, _ = parse_bitbake(lint, p)
                lint_image_fragment(lint, p, iv)
    if not any(os.path.basename(r) == "ion-agent_git.bb" for r in recipes):
        lint.err(layer, 0, "no ion-agent_git.bb recipe (the agent is built from git)")
    lint_doc_recipe_names(lint, layer, recipes)
    for r in recipes:
        v, inherits = parse_bitbake(lint, r)
        if os.path.basename(r).startswith("ion-agent_"):
            lint_agent_recipe(lint, r, v, inherits, known_cmake)
        for var in ("DEPENDS", "RDEPENDS:${PN}"):
            for n, _, val, fl in v.get(var, []):
                for dep in val.split():
                    if "$" not in dep and dep not in OE_RECIPES:
                        lint.err(r, n, f"{var}: unknown recipe or package {dep!r}")
        if "LICENSE" not in v:
            lint.err(r, 0, "LICENSE is not set")


def lint_agent_recipe(lint, r, v, inherits, known_cmake):
    for var in ("SUMMARY", "LICENSE", "LIC_FILES_CHKSUM", "SRC_URI", "SRCREV", "S", "DEPENDS",
                "SYSTEMD_SERVICE:${PN}", "USERADD_PACKAGES", "USERADD_PARAM:${PN}"):
        if var not in v:
            lint.err(r, 0, f"{var} is not set")
    for cls in ("cmake", "pkgconfig", "systemd", "useradd"):
        if cls not in inherits:
            lint.err(r, 0, f"does not inherit {cls}")
    n, uri = first(v, "SRC_URI")
    ref = re.fullmatch(r"\$\{([A-Za-z0-9_]+)\}", (uri or "").strip())
    if ref and first(v, ref.group(1))[1] is not None:
        n, uri = first(v, ref.group(1))  # SRC_URI = "${ION_AGENT_SRC_URI}": check the value
    if uri is not None:
        u = uri.split()[0] if uri.split() else ""
        if u.startswith("git://"):
            params = dict(p.split("=", 1) for p in u.split(";")[1:] if "=" in p)
            if "branch" not in params and "nobranch" not in params:
                lint.err(r, n, "SRC_URI git:// needs ;branch= (required since honister)")
            if params.get("protocol") not in ("https", "ssh", "file"):
                lint.err(r, n, "SRC_URI git:// needs ;protocol=https (or ssh/file)")
        elif not re.match(r"^(https?|file)://", u):
            lint.err(r, n, f"SRC_URI: unsupported form {u!r}")
    n, rev = first(v, "SRCREV")
    if rev is not None and rev != "${AUTOREV}" and not re.fullmatch(r"[0-9a-f]{40}", rev):
        lint.err(r, n, f"SRCREV {rev!r}: a 40-digit commit or ${{AUTOREV}}")
    n, chk = first(v, "LIC_FILES_CHKSUM")
    for entry in (chk or "").split():
        m = re.match(r"file://([^;]+);md5=([0-9a-f]{32})$", entry)
        if not m:
            lint.err(r, n, f"LIC_FILES_CHKSUM entry {entry!r}: want file://PATH;md5=<32 hex>")
            continue
        lic = os.path.join(lint.root, m.group(1))
        if not os.path.isfile(lic):
            lint.err(r, n, f"LIC_FILES_CHKSUM names {m.group(1)}, which does not exist")
            continue
        with open(lic, "rb") as h:
            actual = hashlib.md5(h.read()).hexdigest()
        if actual != m.group(2):
            lint.err(r, n, f"LIC_FILES_CHKSUM md5 {m.group(2)} != md5 of {m.group(1)} ({actual})")
    for gen in ("v1", "v2"):
        n, pc = first(v, "PACKAGECONFIG", f"gpiod-{gen}")
        if pc is None:
            lint.err(r, 0, f"PACKAGECONFIG[gpiod-{gen}] is not set")
        elif f"-DION_AGENT_GPIOD={gen}" not in pc.split(",")[0] or "libgpiod" not in pc:
            lint.err(r, n, f"PACKAGECONFIG[gpiod-{gen}] must pass -DION_AGENT_GPIOD={gen} and depend on libgpiod")
    for var in ("EXTRA_OECMAKE",):
        for n, _, val, _ in v.get(var, []):
            check_defines(lint, r, n, val, known_cmake)
    n, svc = first(v, "SYSTEMD_SERVICE:${PN}")
    for unit in (svc or "").split():
        base = os.path.join(lint.root, "deploy", "systemd", unit)
        if not (os.path.isfile(base) or os.path.isfile(base + ".in")):
            lint.err(r, n, f"SYSTEMD_SERVICE names {unit}, which deploy/systemd does not ship")
    n, param = first(v, "USERADD_PARAM:${PN}")
    if param is not None:
        m = re.search(r"--groups\s+(\S+)", param)
        if not m or not {"input", "dialout", "gpio"} <= set(m.group(1).split(",")):
            lint.err(r, n, "USERADD_PARAM: ion-agent must be in groups input,dialout,gpio")
    lint_offline_parse(lint, r, v)
    lint_recipe_conventions(lint, r, v)


def project_version(root):
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"\bproject\(\s*ion-agent\s+VERSION\s+([0-9.]+)", f.read())
    return m.group(1) if m else None


def cmake_default(root, var):
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"\bset\(\s*" + var + r'\s+"([^"]*)"\s+CACHE', f.read())
    return m.group(1) if m else None


def lint_offline_parse(lint, r, v):
    """What makes bitbake touch the network at parse time, and the git recipe's naming."""
    if os.path.basename(r) == "ion-agent_git.bb":
        n, pv = first(v, "PV")
        want = (project_version(lint.root) or "?") + "+git"
        if pv is None:
            lint.err(r, 0, f'PV is not set: want PV = "{want}"')
        elif pv != want:
            lint.err(r, n, f'PV {pv!r}: want "{want}" (the project version + "+git")')
    for n, op, val, fl in v.get("SRCREV", []):
        if "AUTOREV" in val:
            lint.err(r, n, "SRCREV uses AUTOREV: bitbake then runs git ls-remote at parse time, "
                           "even with BB_NO_NETWORK; pin a 40-digit commit")
        elif op in ("?=", "??="):
            lint.err(r, n, f"SRCREV {op} : pin it with '=' (the release process updates it)")
    n, uri = first(v, "SRC_URI")
    m = re.fullmatch(r"\$\{([A-Za-z0-9_]+)\}", (uri or "").strip())
    if uri is not None and not m:
        lint.err(r, n, "SRC_URI: set it from an overridable variable (SRC_URI = \"${ION_AGENT_SRC_URI}\", "
                       "ION_AGENT_SRC_URI ?= \"git://...\") so a downstream layer overrides one line")
    elif m:
        n2, op2 = None, None
        for ln, op, val, fl in v.get(m.group(1), []):
            n2, op2 = ln, op
        if op2 not in ("?=", "??="):
            lint.err(r, n2 or n, f"{m.group(1)} must be set with ?= so a downstream layer can override it")


def lint_recipe_conventions(lint, r, v):
    n, deps = first(v, "DEPENDS")
    if deps is not None and "libgpiod" not in deps.split():
        lint.err(r, n, "DEPENDS lacks libgpiod: CMake always needs it; PACKAGECONFIG must not be "
                       "the only way it gets in")
    for n, op, val, fl in v.get("PACKAGECONFIG", []):
        if fl is None and re.search(r"LAYERSERIES_CORENAMES|DISTRO_CODENAME|kirkstone|scarthgap", val):
            lint.err(r, n, "PACKAGECONFIG default follows the release name; the libgpiod "
                           "generation must follow the libgpiod provided (CMake's auto)")
    for n, op, val, fl in v.get("EXTRA_OECMAKE", []):
        if op not in ("+=", ".="):
            lint.err(r, n, f"EXTRA_OECMAKE {op} : use += (or :append) so classes and bbappends keep theirs")
    n, param = first(v, "USERADD_PARAM:${PN}")
    if param is not None:
        for path in re.findall(r"(?:^|\s)(/[^\s;]*)", param):
            lint.err(r, n, f"USERADD_PARAM: hard-coded path {path}; use ${{ION_AGENT_STATE_DIR}}, "
                           "${base_sbindir}, ...")
        if "--home-dir ${ION_AGENT_STATE_DIR}" not in " ".join(param.split()):
            lint.err(r, n, "USERADD_PARAM: --home-dir must be ${ION_AGENT_STATE_DIR}")
    cm = " ".join(val for _, _, val, _ in v.get("EXTRA_OECMAKE", []))
    if "-DION_AGENT_STATE_DIR=${ION_AGENT_STATE_DIR}" not in cm:
        lint.err(r, 0, "EXTRA_OECMAKE must pass -DION_AGENT_STATE_DIR=${ION_AGENT_STATE_DIR}")
    if first(v, "ION_AGENT_STATE_DIR")[1] is None:
        lint.err(r, 0, "ION_AGENT_STATE_DIR is not set (ION_AGENT_STATE_DIR ?= \"${localstatedir}/lib/ion-agent\")")


def lint_image_fragment(lint, p, v):
    for var, entries in v.items():
        if re.fullmatch(r"IMAGE_INSTALL(:append|:prepend)?(:.*)?", var):
            for n, op, val, fl in entries:
                if op in ("+=", "=+", ".=", "=.") or ":append" in var or ":prepend" in var:
                    lint.err(p, n, f"{var} {op} reaches initramfs images too; use "
                                   "CORE_IMAGE_EXTRA_INSTALL += or the image's own IMAGE_INSTALL")


def lint_doc_recipe_names(lint, layer, recipes):
    names = {os.path.basename(x) for x in recipes}
    docs = [os.path.join(lint.root, "deploy", "DEPLOYING.md"), os.path.join(layer, "README.md")]
    for doc in docs:
        if not os.path.isfile(doc):
            continue
        with open(doc, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                for name in re.findall(r"\b([a-z0-9-]+_[A-Za-z0-9.+-]+\.bb)\b", line):
                    if name not in names:
                        lint.err(doc, n, f"names {name}, which the layer does not have")


# --- Buildroot -------------------------------------------------------------------------
def kconfig_symbols(path):
    """(defined, used) symbols with line numbers from one Kconfig file."""
    defined, used = {}, []
    with open(path, encoding="utf-8") as f:
        lines = list(bb_logical_lines(f.read()))
    for n, line in lines:
        s = line.strip()
        m = re.match(r"^(menu)?config\s+(\w+)", s)
        if m:
            defined[m.group(2)] = n
            continue
        m = re.match(r"^(select|imply)\s+(\w+)", s)
        if m:
            used.append((n, m.group(2)))
        m = re.match(r"^(depends\s+on|if|default\s+\S+\s+if|visible\s+if)\s+(.*)", s)
        if m:
            expr = m.group(2).split("#")[0]
            used.extend((n, t) for t in re.findall(r"\bBR2_\w+", expr))
        m = re.match(r"^default\s+(BR2_\w+)", s)
        if m:
            used.append((n, m.group(1)))
    return defined, used


def lint_buildroot(lint, tree):
    desc = os.path.join(tree, "external.desc")
    name = None
    if os.path.isfile(desc):
        with open(desc, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^name:\s*([A-Za-z0-9_]+)\s*$", line)
                name = m.group(1) if m else name
    if not name:
        lint.err(desc, 1, "external.desc needs 'name: <UPPER_CASE>'")
        return
    for f in ("external.mk", "Config.in"):
        if not os.path.isfile(os.path.join(tree, f)):
            lint.err(os.path.join(tree, f), 0, "missing")
    cfg = os.path.join(tree, "Config.in")
    kfiles = [cfg]
    with open(cfg, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'^\s*source\s+"\$BR2_EXTERNAL_' + name + r'_PATH/([^"]+)"', line)
            if m:
                p = os.path.join(tree, m.group(1))
                if not os.path.isfile(p):
                    lint.err(cfg, n, f"sources {m.group(1)}, which does not exist")
                else:
                    kfiles.append(p)
            elif re.match(r"^\s*source\b", line):
                lint.err(cfg, n, f"source must use $BR2_EXTERNAL_{name}_PATH")
    defined, used = {}, []
    for k in kfiles:
        d, u = kconfig_symbols(k)
        defined.update(d)
        used.extend((k, n, s) for n, s in u)
    for k, n, sym in used:
        if sym not in defined and sym not in BR_SYMBOLS:
            lint.err(k, n, f"{sym}: not defined here and not a known Buildroot symbol")
    selects = {s for k, n, s in used if s.startswith("BR2_PACKAGE_")}
    kconfiglib_check(lint, kfiles, cfg, name, tree)
    lint_br_kconfig_conventions(lint, kfiles[1:])
    for k in kfiles[1:]:
        pkgdir = os.path.dirname(k)
        pkg = os.path.basename(pkgdir)
        lint_br_package(lint, pkgdir, pkg, selects)


def kconfiglib_check(lint, kfiles, cfg, name, tree):
    """Parses the tree with the real Kconfig parser when python3-kconfiglib is installed."""
    try:
        import kconfiglib
    except ImportError:
        return
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        top = os.path.join(tmp, "Config.in")
        with open(top, "w", encoding="utf-8") as f:
            for s in sorted(BR_SYMBOLS):
                f.write(f"config {s}\n\tbool\n")
            f.write(f'source "{cfg}"\n')
        os.environ[f"BR2_EXTERNAL_{name}_PATH"] = tree
        try:
            k = kconfiglib.Kconfig(top, warn_to_stderr=False)
        except kconfiglib.KconfigError as e:
            lint.err(cfg, 0, f"kconfiglib: {str(e).splitlines()[0]}")
            return
        for w in k.warnings:
            if "undefined symbol" in w or "syntax" in w.lower():
                lint.err(cfg, 0, f"kconfiglib: {w.splitlines()[0]}")


def lint_br_kconfig_conventions(lint, kfiles):
    for k in kfiles:
        with open(k, encoding="utf-8") as f:
            text = f.read()
        if re.search(r"^\s*select\s+BR2_PACKAGE_LIBCURL\b(?!_)", text, re.M) and not re.search(
                r"^\s*select\s+BR2_PACKAGE_LIBCURL_FORCE_TLS\b", text, re.M):
            lint.err(k, 0, "selects BR2_PACKAGE_LIBCURL without BR2_PACKAGE_LIBCURL_FORCE_TLS "
                           "(a libcurl without TLS cannot reach ION)")
        m = re.search(r"^config\s+(BR2_PACKAGE_\w+)\n(.*?)(?=^\S)", text, re.M | re.S)
        if m and not re.search(r"^\s*depends\s+on\s+BR2_INIT_SYSTEMD\b", m.group(2), re.M):
            lint.err(k, 0, f"{m.group(1)} must depend on BR2_INIT_SYSTEMD (systemd unit, sysusers.d)")


def lint_br_conventions(lint, mk, pkgdir, pkg, up, text, values):
    if re.search(r"\bln\s+-s\S*\s+.*\.wants", re.sub(r"\\\n", " ", text)) or ".wants/" in text:
        lint.err(mk, 0, "enables the unit with a fixed .wants symlink, which `systemctl disable` "
                        "cannot remove; install a systemd preset (system-preset/*.preset)")
    presets = re.findall(r"\$\(%s_PKGDIR\)/(\S+\.preset)" % up, text)
    if not presets:
        lint.err(mk, 0, f"no systemd preset installed ({up}_INSTALL_INIT_SYSTEMD should install one)")
    for p in presets:
        pf = os.path.join(pkgdir, p)
        if not os.path.isfile(pf):
            lint.err(mk, 0, f"installs {p}, which does not exist")
            continue
        with open(pf, encoding="utf-8") as f:
            if not re.search(rf"^enable\s+{re.escape(pkg)}\.service\s*$", f.read(), re.M):
                lint.err(pf, 1, f"does not say 'enable {pkg}.service'")
    method = [val.strip() for _, val in values.get(f"{up}_SITE_METHOD", [])]
    if "local" in method:
        excl = " ".join(val for _, val in values.get(f"{up}_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS", []))
        excl += " ".join(re.findall(rf"^{up}_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS\s*\+?=\s*(.*)$",
                                    re.sub(r"\\\n", " ", text), re.M))
        if "build" not in excl:
            lint.err(mk, 0, f"local site method copies the checkout's build directories; set "
                            f"{up}_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude='/build*/' ...")
    state = [val.strip() for _, val in values.get(f"{up}_STATE_DIR", [])]
    want = cmake_default(lint.root, "ION_AGENT_STATE_DIR")
    if not state:
        lint.err(mk, 0, f"{up}_STATE_DIR is not set (the one state-directory setting)")
    elif want and state[0] != want:
        lint.err(mk, 0, f"{up}_STATE_DIR {state[0]} differs from CMake's default {want}")
    flat = re.sub(r"\\\n", " ", text)
    if f"-DION_AGENT_STATE_DIR=$({up}_STATE_DIR)" not in flat:
        lint.err(mk, 0, f"{up}_CONF_OPTS must pass -DION_AGENT_STATE_DIR=$({up}_STATE_DIR)")


def lint_br_package(lint, pkgdir, pkg, selects):
    up = pkg.upper().replace("-", "_")
    mk = os.path.join(pkgdir, pkg + ".mk")
    if not os.path.isfile(mk):
        lint.err(mk, 0, "missing")
        return
    with open(mk, encoding="utf-8") as f:
        text = f.read()
    flat = re.sub(r"\\\n", " ", text)
    values = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(rf"^({up}_[A-Z_]+)\s*(\+=|=|:=)\s*(.*)$", line)
        if m:
            values.setdefault(m.group(1), []).append((n, m.group(3)))
    for var in ("VERSION", "SITE", "LICENSE", "LICENSE_FILES", "DEPENDENCIES", "CONF_OPTS"):
        if f"{up}_{var}" not in values:
            lint.err(mk, 0, f"{up}_{var} is not set")
    last = [l for l in text.splitlines() if l.strip()][-1].strip()
    if last != "$(eval $(cmake-package))":
        lint.err(mk, 0, f"must end with $(eval $(cmake-package)), ends with {last!r}")
    deps = set()
    for line in re.findall(rf"^{up}_DEPENDENCIES\s*\+?=\s*(.*)$", flat, re.M):
        deps |= set(line.split())
    for d in deps:
        if d not in BR_PACKAGES:
            lint.err(mk, 0, f"{up}_DEPENDENCIES: unknown Buildroot package {d!r}")
        elif BR_PACKAGES[d] and BR_PACKAGES[d] not in selects:
            lint.err(mk, 0, f"depends on {d} but Config.in does not select {BR_PACKAGES[d]}")
    for sym in selects:
        pkgs = [p for p, s in BR_PACKAGES.items() if s == sym]
        if pkgs and not set(pkgs) & deps and sym != "BR2_PACKAGE_CA_CERTIFICATES":
            lint.err(mk, 0, f"Config.in selects {sym} but {up}_DEPENDENCIES lacks {pkgs[0]}")
    check_defines(lint, mk, 0, flat, cmake_cache_vars(lint.root))
    m = re.search(rf"^define {up}_USERS\n(.*?)^endef", text, re.M | re.S)
    if not m:
        lint.err(mk, 0, f"{up}_USERS is not defined")
    else:
        users = [l.split() for l in m.group(1).splitlines() if l.strip()]
        agent = [u for u in users if u[0] == pkg]
        if not agent or len(agent[0]) < 9:
            lint.err(mk, 0, f"{up}_USERS: no well-formed '{pkg}' line (9 fields + comment)")
        elif not {"input", "dialout", "gpio"} <= set(agent[0][7].split(",")):
            lint.err(mk, 0, f"{up}_USERS: {pkg} must be in groups input,dialout,gpio")
        elif agent[0][5] != f"$({up}_STATE_DIR)":
            lint.err(mk, 0, f"{up}_USERS: {pkg}'s home is {agent[0][5]}, want $({up}_STATE_DIR)")
    lint_br_conventions(lint, mk, pkgdir, pkg, up, text, values)
    lint_br_hash(lint, pkgdir, pkg, values.get(f"{up}_LICENSE_FILES", []))


def lint_br_hash(lint, pkgdir, pkg, license_files):
    hf = os.path.join(pkgdir, pkg + ".hash")
    hashes = {}
    if not os.path.isfile(hf):
        lint.err(hf, 0, "missing")
        return
    with open(hf, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3 or parts[0] not in ("sha256", "sha1", "md5", "sha512"):
                lint.err(hf, n, f"not '<type>  <hash>  <file>': {line.strip()!r}")
                continue
            hashes[parts[2]] = (n, parts[0], parts[1])
    for _, files in license_files:
        for lic in files.split():
            path = os.path.join(lint.root, lic)
            if lic not in hashes:
                lint.err(hf, 0, f"no hash for license file {lic}")
                continue
            n, algo, want = hashes[lic]
            if not os.path.isfile(path):
                lint.err(hf, n, f"{lic} does not exist")
                continue
            with open(path, "rb") as h:
                actual = hashlib.new(algo, h.read()).hexdigest()
            if actual != want:
                lint.err(hf, n, f"{algo} of {lic} is {actual}, file says {want}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.dirname(here), help="repository root")
    ap.add_argument("--yocto", help="layer dir (default: ROOT/deploy/yocto/meta-ion-agent)")
    ap.add_argument("--buildroot", help="external tree (default: ROOT/deploy/buildroot)")
    a = ap.parse_args()
    lint = Lint(os.path.abspath(a.root))
    yocto = a.yocto or os.path.join(lint.root, "deploy", "yocto", "meta-ion-agent")
    br = a.buildroot or os.path.join(lint.root, "deploy", "buildroot")
    lint_yocto(lint, os.path.abspath(yocto))
    lint_buildroot(lint, os.path.abspath(br))
    for e in lint.errors:
        print(e, file=sys.stderr)
    if lint.errors:
        print(f"lint-metadata: {len(lint.errors)} finding(s)", file=sys.stderr)
        return 1
    print("lint-metadata: Yocto layer and Buildroot tree clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
