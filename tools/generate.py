"""Every generated file, regenerated at once: `make generate` (python -m tools.generate).

Pulumi.yaml's config schema, the README's generated blocks (config reference, costs, config changes, the plan and
comparison examples), the plans' golden files, the pinned URNs and the benchmark report's goldens.
`expected_files` renders them in memory, so tests/test_generated.py can fail on any stale one and name the
command that refreshes it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from tools import docs, gen_pulumi_yaml, plan, urns
from tools.bench import goldens as bench_goldens

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "make generate"


def expected_files() -> dict[Path, str]:
    """Each generated file's path and the text it should hold now."""
    files = {ROOT / "Pulumi.yaml": gen_pulumi_yaml.render(), docs.README: docs.rewrite(docs.README.read_text())}
    files |= {plan.GOLDEN_DIR / name: text for name, text in plan.golden_documents().items()}
    files |= {urns.GOLDEN_DIR / name: text for name, text in urns.golden_documents().items()}
    files |= {bench_goldens.GOLDEN_DIR / name: text for name, text in bench_goldens.golden_documents().items()}
    return files


def obsolete_goldens(expected: dict[Path, str]) -> list[Path]:
    """Golden files of a stack or tier that no longer exists (`make generate` removes them)."""
    golden = [*plan.GOLDEN_DIR.glob("plan-*.md"), *plan.GOLDEN_DIR.glob("compare-*.md"),
              *urns.GOLDEN_DIR.glob("urns-*.txt")]
    return sorted(p for p in golden if p not in expected)


def stale_files(expected: dict[Path, str]) -> list[Path]:
    """The generated files that are missing, differ from `expected`, or are obsolete."""
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    return stale + obsolete_goldens(expected)


def main() -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the vendor SDKs are noisy on import
    expected = expected_files()
    changed = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    for path in changed:
        path.write_text(expected[path])
    removed = obsolete_goldens(expected)
    for path in removed:
        path.unlink()
    report = [f"updated {p.relative_to(ROOT)}" for p in changed]
    report += [f"removed {p.relative_to(ROOT)}" for p in removed]
    print("\n".join(report) or "generated files are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
