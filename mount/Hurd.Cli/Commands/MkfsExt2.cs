using System.Diagnostics;
using Hurd.Ext2;
using Hurd.Ipc.Abi;

namespace Hurd.Cli.Commands;

/// <summary>
/// <c>hurd mkfs.ext2 [-b BLOCK-SIZE] [-i BYTES-PER-INODE] [-I INODE-SIZE] [-L LABEL] [-q] IMAGE SIZE</c>: creates (or
/// overwrites) the image file IMAGE of SIZE bytes (k/M/G/T suffixes) and makes an ext2 filesystem on it with our own
/// mkfs (Hurd.Ext2's <see cref="Mkfs"/>: Debian's defaults, passes e2fsck, mounts on Linux and with the ext2fs
/// translator). Big images show a progress line (groups written) on a terminal.
/// </summary>
public static class MkfsExt2
{
    public const string Help = """
        Usage: hurd mkfs.ext2 [OPTION...] IMAGE SIZE
        Create the image file IMAGE of SIZE bytes (suffixes k, M, G, T) holding an empty ext2 filesystem
        (revision 1, 256-byte inodes, ext_attr, dir_index, filetype, sparse_super, large_file), as
        Debian's mkfs.ext2 with default options. An existing IMAGE is overwritten.

          -b, --block-size=N         1024, 2048 or 4096 (default 1024 under 512 MiB, else 4096)
          -i, --bytes-per-inode=N    bytes per inode (default by size, as mke2fs.conf)
          -I, --inode-size=N         128 or 256 (default 256)
          -L, --label=LABEL          volume label (up to 16 bytes)
          -q, --quiet                no progress line and no summary
          -h, --help                 show this help

        Exit status: 0 on success, 1 on failure, 2 usage error.

        """;

    /// <summary>The command's entry point.</summary>
    public static int Run(string[] args)
    {
        int? blockSize = null, ratio = null;
        int inodeSize = 256;
        string label = "";
        bool quiet = false;
        var pos = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? Value(string shortName, string longName)
            {
                if (a.StartsWith(longName + "=", StringComparison.Ordinal)) return a[(longName.Length + 1)..];
                if (a == shortName || a == longName) return i + 1 < args.Length ? args[++i] : null;
                if (a.StartsWith(shortName, StringComparison.Ordinal) && a.Length > 2 && !a.StartsWith("--", StringComparison.Ordinal)) return a[2..];
                return null;
            }
            if (a is "-h" or "--help") { Console.Out.Write(Help); return 0; }
            if (a is "-q" or "--quiet") { quiet = true; continue; }
            if (!a.StartsWith('-') || a == "-") { pos.Add(a); continue; }
            string? v;
            if (a.StartsWith("-b", StringComparison.Ordinal) || a.StartsWith("--block-size", StringComparison.Ordinal))
            {
                v = Value("-b", "--block-size");
                if (v is null || !int.TryParse(v, out int b) || b is not (1024 or 2048 or 4096)) return Usage($"bad block size '{v}'");
                blockSize = b;
            }
            else if (a.StartsWith("-i", StringComparison.Ordinal) || a.StartsWith("--bytes-per-inode", StringComparison.Ordinal))
            {
                v = Value("-i", "--bytes-per-inode");
                if (v is null || !Mkfs.TryParseSize(v, out long r) || r < 1024 || r > 1 << 26) return Usage($"bad bytes-per-inode '{v}'");
                ratio = (int)r;
            }
            else if (a.StartsWith("-I", StringComparison.Ordinal) || a.StartsWith("--inode-size", StringComparison.Ordinal))
            {
                v = Value("-I", "--inode-size");
                if (v is null || !int.TryParse(v, out inodeSize) || inodeSize is not (128 or 256)) return Usage($"bad inode size '{v}'");
            }
            else if (a.StartsWith("-L", StringComparison.Ordinal) || a.StartsWith("--label", StringComparison.Ordinal))
            {
                v = Value("-L", "--label");
                if (v is null || System.Text.Encoding.UTF8.GetByteCount(v) > 16) return Usage("a label is at most 16 bytes");
                label = v;
            }
            else return Usage($"unknown option '{a}'");
        }
        if (pos.Count != 2) return Usage("IMAGE and SIZE are required");
        string image = pos[0];
        if (!Mkfs.TryParseSize(pos[1], out long size)) return Usage($"bad size '{pos[1]}'");

        bool tty = !quiet && !Console.IsErrorRedirected;
        var clock = Stopwatch.StartNew();
        long lastShown = -1;
        var options = new MkfsOptions
        {
            BlockSize = blockSize,
            InodeRatio = ratio,
            InodeSize = inodeSize,
            Label = label,
            Progress = tty && size >= 256L << 20 ? (done, total) =>
            {
                // At most ~10 redraws a second; always the last one.
                long now = clock.ElapsedMilliseconds;
                if (done != total && now - lastShown < 100) return;
                lastShown = now;
                Console.Error.Write($"\rWriting group tables: {done}/{total}");
                if (done == total) Console.Error.WriteLine();
            } : null,
        };
        var e = Mkfs.Create(image, size, options, out var message);
        if (e != Errno.OK)
        {
            Console.Error.WriteLine($"hurd mkfs.ext2: {image}: {(message.Length > 0 ? message : e.Message())}");
            return 1;
        }
        if (!quiet)
        {
            // Read the result back as the translator will (also a check of what was written).
            var m = Ext2Fs.MountImage(image, new Ext2MountOptions { ReadOnly = true }, out var fs, out var why);
            if (m != Errno.OK)
            {
                Console.Error.WriteLine($"hurd mkfs.ext2: {image}: the new filesystem does not mount: {why}");
                return 1;
            }
            using (fs)
            {
                var sb = fs!.Superblock;
                Console.Out.WriteLine($"{image}: ext2, {sb.BlocksCount} blocks of {fs.BlockSize} bytes, {sb.InodesCount} inodes " +
                    $"({sb.InodeSize} bytes), {clock.Elapsed.TotalSeconds:F2} s");
            }
        }
        return 0;
    }

    static int Usage(string why)
    {
        Console.Error.WriteLine($"hurd mkfs.ext2: {why}");
        Console.Error.WriteLine("Usage: hurd mkfs.ext2 [OPTION...] IMAGE SIZE (see 'hurd mkfs.ext2 --help')");
        return 2;
    }
}
