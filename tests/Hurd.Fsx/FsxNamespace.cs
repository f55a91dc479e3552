namespace Hurd.Fsx;

/// <summary>
/// The small, fixed namespace every run draws from: a few directories and about 20 names, so that collisions,
/// renames over existing files, links, and EEXIST/ENOENT/ENOTEMPTY/EISDIR/ENOTDIR happen often.
/// Safety contract: every path and symlink target is relative and downward-only (no "..", no leading '/'),
/// so resolving any of them from inside a root, through any symlinks the run creates, stays inside that root.
/// </summary>
public static class FsxNamespace
{
    /// <summary>Paths the generator uses ("." is the root itself; "f0/x" exists only to provoke ENOTDIR;
    /// "s1/f0" goes through a symlink when s1 points to a directory).</summary>
    public static readonly string[] Paths =
    [
        ".", "d0", "d1", "f0", "f1", "f2", "f3", "s0", "s1",
        "d0/f0", "d0/f1", "d0/d2", "d0/s0", "d1/f0", "d1/f1", "d1/d3",
        "d0/d2/f0", "d0/d2/f1", "d1/d3/f0", "f0/x", "s1/f0",
    ];

    /// <summary>The directory skeleton the prelude creates, and the names directory operations mostly use.</summary>
    public static readonly string[] Dirs = ["d0", "d1", "d0/d2", "d1/d3"];

    /// <summary>The names file operations mostly use (symlinks included: they resolve to files or directories).</summary>
    public static readonly string[] Files =
        ["f0", "f1", "f2", "f3", "d0/f0", "d0/f1", "d1/f0", "d1/f1", "d0/d2/f0", "d0/d2/f1", "d1/d3/f0", "s0", "s1/f0"];

    /// <summary>The names symlink creation mostly uses.</summary>
    public static readonly string[] LinkNames = ["s0", "s1", "d0/s0"];

    /// <summary>Where mknod puts FIFOs, sockets and devices. Never in <see cref="Paths"/>, never a symlink target,
    /// and renamed only onto each other, so no open, read or write ever reaches such a node.</summary>
    public static readonly string[] NodeNames = ["p0", "d0/p0"];

    /// <summary>Symlink targets: downward-only, some dangling ("nosuch"), some loops ("s0" at the root).</summary>
    public static readonly string[] Targets = ["f0", "f1", "d0", "d1", "d0/f1", "d1/d3/f0", "s0", "s1", "nosuch", "d0/d2"];

    /// <summary>Extended attribute names (user namespace only).</summary>
    public static readonly string[] XattrNames = ["user.a", "user.b", "user.fsx.a_longer_name_0123456789"];

    /// <summary>The length of <see cref="PatternBuffer"/>; written data is a window of it.</summary>
    public const int PatternSize = 4 << 20;

    /// <summary>Deterministic pseudo-random bytes; a write of n bytes with pattern p writes PatternBuffer[p..p+n].</summary>
    public static readonly byte[] PatternBuffer = MakePattern();

    private static byte[] MakePattern()
    {
        var b = GC.AllocateUninitializedArray<byte>(PatternSize, pinned: true);
        new Random(0x5eed).NextBytes(b);
        return b;
    }

    /// <summary>Validates a path or target read from a log: relative, no "..", no empty components, no spaces.
    /// Returns the interned string (so the generator's and the parser's strings compare by reference).</summary>
    public static string Checked(string p)
    {
        if (p.Length == 0 || p[0] == '/' || p.Contains(' ') || p.Contains('\0'))
            throw new FormatException($"unsafe path '{p}'");
        if (p != ".")
            foreach (var c in p.Split('/'))
                if (c.Length == 0 || c == "." || c == "..")
                    throw new FormatException($"unsafe path '{p}'");
        return string.Intern(p);
    }
}
