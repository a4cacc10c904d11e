"""Checks that every shared library a running program mapped comes from a package its .deb
Depends on (or Recommends: GPU drivers), directly or through their own dependencies.

    python3 check_depends.py tintype_0.1.0_amd64.deb libs.txt   (libs.txt: one path per line)
"""
import re
import subprocess
import sys


def field(deb, name):
    return subprocess.run(["dpkg-deb", "--field", deb, name], capture_output=True, text=True).stdout.strip()


def names(relation):
    """Package names of a Depends-style field (versions and architectures dropped, every alternative kept)."""
    return {re.split(r"[\s(:]", alt.strip())[0] for part in relation.split(",") for alt in part.split("|") if alt.strip()}


def closure(roots):
    seen, todo = set(), list(roots)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}, ${Provides}", pkg],
                             capture_output=True, text=True).stdout
        todo.extend(names(out) - seen)
    return seen


def owner(path):
    out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True).stdout
    if not out:  # merged /usr: /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu
        alt = path[4:] if path.startswith("/usr/") else "/usr" + path
        out = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True).stdout
    return out.split(":")[0] if out else None


def main():
    deb, libs_file = sys.argv[1], sys.argv[2]
    depends = names(field(deb, "Depends"))
    recommends = names(field(deb, "Recommends"))
    allowed = closure(depends | recommends)
    libs = [line.strip() for line in open(libs_file) if line.strip()]
    problems, direct = [], set()
    for lib in libs:
        if "/usr/bin/tintype" in lib or "/root/usr/" in lib:
            continue
        pkg = owner(lib)
        if pkg is None:
            problems.append(f"{lib}: no package owns it")
            continue
        direct.add(pkg)
        if pkg not in allowed:
            problems.append(f"{lib}: from {pkg}, which Depends does not cover")
    print(f"{len(libs)} libraries mapped, from {len(direct)} packages: {', '.join(sorted(direct))}")
    unused = sorted(depends - direct)
    if unused:
        # Expected for the Wayland libraries under X11, and the other way round.
        print(f"note: not mapped in this run (other display servers): {', '.join(unused)}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print("every mapped library is covered by Depends")


if __name__ == "__main__":
    main()
