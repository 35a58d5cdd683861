#!/bin/sh
# 研读（Yandu）离线安装：sh install.sh [安装目录]（默认 $HOME/yandu，或 YANDU_HOME）
# Checks every file against SHA256SUMS before anything is installed; needs no network (pip runs with
# --no-index from ./wheels). Safe to run again; installing over an older version keeps data/ (corpus,
# index, settings in data/yandu.env, logs) and rebuilds the index when its format changed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
die() { printf '%s\n' "$*" >&2; exit 1; }

[ -f SHA256SUMS ] && [ -f bundle.env ] || die "安装包不完整：缺少 SHA256SUMS 或 bundle.env（$here）"
command -v sha256sum >/dev/null 2>&1 || die "需要 sha256sum 命令（coreutils 软件包）"

# 1. Every file listed, every listed file intact — nothing is installed before this passes.
listed=$(mktemp) && present=$(mktemp)
trap 'rm -f "$listed" "$present"' EXIT
sed 's/^[0-9a-f]*  //' SHA256SUMS | LC_ALL=C sort > "$listed"
find . -type f ! -path ./SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort > "$present"
extra=$(LC_ALL=C comm -13 "$listed" "$present" | head -n 1)
[ -z "$extra" ] || die "校验失败：$extra 不在 SHA256SUMS 中（安装包被改动），未安装任何内容"
bad=$(LC_ALL=C sha256sum -c --quiet SHA256SUMS 2>/dev/null | head -n 1 | sed 's/: .*//') || true
[ -z "$bad" ] || die "校验失败：$bad 与 SHA256SUMS 不符（安装包损坏或被改动），未安装任何内容"

. ./bundle.env

# 2. The machine: architecture, glibc, a supported Python with venv.
arch=$(uname -m)
[ "$arch" = arm64 ] && arch=aarch64
[ "$arch" = "$PLATFORM" ] || die "此安装包用于 $PLATFORM，本机是 $arch：请使用 yandu-$YANDU_VERSION-linux-$arch 安装包"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed 's/^glibc //') || glibc=
if [ -n "$glibc" ]; then
  printf '%s\n%s\n' "$GLIBC" "$glibc" | sort -C -V || die "需要 glibc $GLIBC 或更新（本机 $glibc）：请在较新的系统上安装"
fi
python=
for candidate in ${YANDU_PYTHON:-} python3.13 python3.12 python3.11 python3; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  v=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  case " $PYTHONS " in *" $v "*) ;; *) continue ;; esac
  "$candidate" -c 'import venv, ensurepip' 2>/dev/null || continue
  python=$(command -v "$candidate"); break
done
if [ -z "$python" ]; then
  have=$(python3 --version 2>/dev/null || echo "无 python3")
  die "需要 Python $(echo "$PYTHONS" | sed 's/ /、/g')（含 venv 模块），本机为：$have；请先安装其一（见 安装说明.txt），或用 YANDU_PYTHON=/路径/python3.11 sh install.sh 指定"
fi
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

prefix=${1:-${YANDU_HOME:-$HOME/yandu}}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
echo "研读 $YANDU_VERSION（$PLATFORM，Python $pyver）→ $prefix"

# 3. The environment: one folder per version and Python, reused when complete (re-running is cheap).
venv="venv-$YANDU_VERSION-py$pyver"
if [ ! -f "$prefix/$venv/.installed" ]; then
  rm -rf "${prefix:?}/$venv"
  "$python" -m venv "$prefix/$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$prefix/$venv/bin/python" -m pip install --isolated --no-index \
    --find-links "$here/wheels" -q -r "$here/requirements.txt" || die "pip 安装失败（见上方信息）；未改动现有安装"
  touch "$prefix/$venv/.installed"
fi

# 4. Code and model: replaced whole; data/ is never touched.
rm -rf "$prefix/app.new" && cp -R "$here/app" "$prefix/app.new"
rm -rf "$prefix/app" && mv "$prefix/app.new" "$prefix/app"
grep '  models/' SHA256SUMS > "$listed"
if ! cmp -s "$listed" "$prefix/models/.SHA256SUMS" 2>/dev/null; then
  rm -rf "$prefix/models.new" && cp -R "$here/models" "$prefix/models.new" && cp "$listed" "$prefix/models.new/.SHA256SUMS"
  rm -rf "$prefix/models" && mv "$prefix/models.new" "$prefix/models"
fi
cp "$here/yandu" "$prefix/yandu.new" && chmod 755 "$prefix/yandu.new" && mv "$prefix/yandu.new" "$prefix/yandu"
cp "$here/bundle.env" "$prefix/bundle.env"
ln -sfn "$venv" "$prefix/venv"
for old in "$prefix"/venv-*; do
  [ "$old" = "$prefix/$venv" ] || rm -rf "$old"
done

mkdir -p "$prefix/data/index" "$prefix/data/logs"
if [ ! -d "$prefix/data/corpus" ]; then
  cp -R "$here/app/corpus" "$prefix/data/corpus"
  echo "已放入 $(ls "$prefix/data/corpus" | wc -l) 份示例报告：$prefix/data/corpus（可在“报告库”中删除，或直接放入您的报告）"
fi
[ -f "$prefix/data/yandu.env" ] || cat > "$prefix/data/yandu.env" <<'EOF'
# 研读的设置（升级时保留）。每行一个环境变量，例如：
# YANDU_AUTH=alice:secret          # 网页登录账号（在 127.0.0.1 以外的地址提供服务时必须设置）
# YANDU_MAX_FILE_MB=20
EOF

# 5. An index built under another format is rebuilt now, never served as it is.
if [ -n "$(ls -A "$prefix/data/index" 2>/dev/null)" ] && \
   [ "$(cat "$prefix/data/.index_format" 2>/dev/null)" != "$INDEX_FORMAT" ]; then
  echo "索引格式已变化（$(cat "$prefix/data/.index_format" 2>/dev/null || echo 未知) → $INDEX_FORMAT）：正在重建索引 …"
  if ! "$prefix/yandu" index --rebuild; then
    mv "$prefix/data/index" "$prefix/data/index.old-$(date +%Y%m%d%H%M%S)" && mkdir "$prefix/data/index"
    die "索引重建未完成，旧索引已移开不再使用；请运行：$prefix/yandu index"
  fi
fi
printf '%s\n' "$INDEX_FORMAT" > "$prefix/data/.index_format"

echo "安装完成。启动：$prefix/yandu serve    （浏览器打开 http://127.0.0.1:7860）"
