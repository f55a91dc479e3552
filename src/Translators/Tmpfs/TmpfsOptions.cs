using System.Globalization;
using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Tmpfs;

/// <summary>
/// tmpfs options, as the Hurd's <c>/hurd/tmpfs [--mode=OCTAL] [--inodes=N] MAX-BYTES</c> plus the libdiskfs
/// read-only/writable switches. MAX-BYTES takes k, M, G, T suffixes (powers of 1024) or <c>N%</c> of physical RAM;
/// it is also accepted as <c>--size=</c>. Parsed at startup and by <c>fsys_set_options</c> (fsysopts), where only
/// the options given change.
/// </summary>
public sealed record TmpfsOptions
{
    /// <summary>The size limit in bytes (data pages, directory entries, symlink targets, xattrs).</summary>
    public long Size { get; init; }
    /// <summary>The size as given (e.g. "50%" or "64M"), printed back by <see cref="ToArgs"/>.</summary>
    public string SizeText { get; init; } = "50%";
    /// <summary>The root directory's permission bits (--mode); null: 1777 for a new filesystem.</summary>
    public FileMode? Mode { get; init; }
    /// <summary>The most nodes the filesystem holds (--inodes), including the root.</summary>
    public long Inodes { get; init; }
    /// <summary>--readonly: every change fails with EROFS.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Physical RAM in bytes, as the runtime sees it (cgroup limits included).</summary>
    public static long PhysicalMemory => Math.Max(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, 64L << 20);

    /// <summary>The defaults: half of RAM, one inode per 8 KiB of RAM (as Linux), writable.</summary>
    public static TmpfsOptions Default => new()
    {
        Size = PhysicalMemory / 2,
        SizeText = "50%",
        Inodes = Math.Max(1024, PhysicalMemory / 8192),
    };

    /// <summary>Parses an argz (NUL-separated arguments) on top of <paramref name="current"/> (or the defaults).
    /// EINVAL for an unknown option or a bad value.</summary>
    public static Errno Parse(ReadOnlySpan<byte> argz, TmpfsOptions? current, out TmpfsOptions result)
    {
        var args = new List<string>();
        while (!argz.IsEmpty)
        {
            int z = argz.IndexOf((byte)0);
            var a = z < 0 ? argz : argz[..z];
            if (!a.IsEmpty) args.Add(Encoding.UTF8.GetString(a));
            argz = z < 0 ? default : argz[(z + 1)..];
        }
        return Parse(args, current, out result);
    }

    /// <summary>Parses command-line arguments on top of <paramref name="current"/> (or the defaults).</summary>
    public static Errno Parse(IEnumerable<string> args, TmpfsOptions? current, out TmpfsOptions result)
    {
        var o = current ?? Default;
        result = o;
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            string? Value(string longName, string? shortName)
            {
                if (a.StartsWith(longName + "=", StringComparison.Ordinal)) return a[(longName.Length + 1)..];
                if ((a == longName || (shortName is not null && a == shortName)) && i + 1 < list.Count) return list[++i];
                if (shortName is not null && a.StartsWith(shortName, StringComparison.Ordinal) && a.Length > shortName.Length) return a[shortName.Length..];
                return null;
            }
            string? v;
            if (a is "-r" or "--readonly" or "--rdonly") o = o with { ReadOnly = true };
            else if (a is "-w" or "--writable" or "--rdwr") o = o with { ReadOnly = false };
            else if (a is "-n" or "--no-sync" or "--update" or "-S" or "--no-suid" or "-E" or "--no-exec" or "-A" or "--no-atime"
                     or "-R" or "--relatime" or "--atime" or "--inherit-dir-group" or "--no-inherit-dir-group" or "-s" or "--sync"
                     || a.StartsWith("--sync=", StringComparison.Ordinal)) { /* libdiskfs options with no effect on tmpfs */ }
            else if (a.StartsWith("--mode", StringComparison.Ordinal) || a.StartsWith("-m", StringComparison.Ordinal))
            {
                v = Value("--mode", "-m");
                if (v is null || !TryOctal(v, out uint m) || m > 0xFFF) return Errno.EINVAL;
                o = o with { Mode = (FileMode)m };
            }
            else if (a.StartsWith("--inodes", StringComparison.Ordinal) || a.StartsWith("-i", StringComparison.Ordinal))
            {
                v = Value("--inodes", "-i");
                if (v is null || !TryParseSize(v, out long n, allowPercent: false) || n < 1) return Errno.EINVAL;
                o = o with { Inodes = n };
            }
            else if (a.StartsWith("--size", StringComparison.Ordinal))
            {
                v = Value("--size", null);
                if (v is null || !TryParseSize(v, out long n, allowPercent: true) || n < 4096) return Errno.EINVAL;
                o = o with { Size = n, SizeText = v };
            }
            else if (!a.StartsWith('-'))
            {
                if (!TryParseSize(a, out long n, allowPercent: true) || n < 4096) return Errno.EINVAL;
                o = o with { Size = n, SizeText = a };
            }
            else return Errno.EINVAL;
        }
        result = o;
        return Errno.OK;
    }

    static bool TryOctal(string s, out uint v)
    {
        v = 0;
        if (s.Length == 0 || s.Length > 6) return false;
        foreach (char c in s)
        {
            if (c < '0' || c > '7') return false;
            v = v * 8 + (uint)(c - '0');
        }
        return true;
    }

    /// <summary>Parses "N", "Nk", "NM", "NG", "NT" (powers of 1024) or, with <paramref name="allowPercent"/>, "N%" of RAM.</summary>
    public static bool TryParseSize(string s, out long bytes, bool allowPercent)
    {
        bytes = 0;
        if (string.IsNullOrEmpty(s)) return false;
        int shift = 0;
        bool percent = false;
        char last = s[^1];
        switch (last)
        {
            case 'k' or 'K': shift = 10; break;
            case 'm' or 'M': shift = 20; break;
            case 'g' or 'G': shift = 30; break;
            case 't' or 'T': shift = 40; break;
            case '%' when allowPercent: percent = true; break;
        }
        string digits = shift != 0 || percent ? s[..^1] : s;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return false;
        if (percent)
        {
            if (n <= 0 || n > 100) return false;
            bytes = PhysicalMemory / 100 * n;
            return true;
        }
        if (n > (long.MaxValue >> shift)) return false;
        bytes = n << shift;
        return true;
    }

    /// <summary>The options as fsys_get_options prints them: <c>--writable|--readonly [--mode=OCTAL] --inodes=N SIZE</c>.</summary>
    public string[] ToArgs()
    {
        var l = new List<string> { ReadOnly ? "--readonly" : "--writable" };
        if (Mode is { } m) l.Add("--mode=" + Convert.ToString((int)m, 8));
        l.Add("--inodes=" + Inodes.ToString(CultureInfo.InvariantCulture));
        l.Add(SizeText);
        return l.ToArray();
    }

    /// <summary><see cref="ToArgs"/> as an argz (each argument NUL-terminated).</summary>
    public byte[] ToArgz()
    {
        var sb = new StringBuilder();
        foreach (var a in ToArgs()) sb.Append(a).Append('\0');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
