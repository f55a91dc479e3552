using Hurd.Ipc.Abi;

namespace Hurd.Ext2.Tests;

/// <summary>A seeded random workload against an in-memory model, then the strict e2fsck.</summary>
public class WorkloadTests
{
    sealed class MFile { public byte[] Data = []; public int Links = 1; public InodeNumber Ino; }
    sealed class MDir { public readonly Dictionary<string, object> Children = new(); public MDir? Parent; public InodeNumber Ino; }

    [Theory(Timeout = 300_000)]
    [InlineData(1024, 12345, 4000)]
    [InlineData(4096, 777, 3000)]
    public async Task RandomWorkload_MatchesModel_StrictFsckClean(int bs, int seed, int ops)
    {
        await Task.Yield();
        string img = E2Tools.TempPath();
        try
        {
            E2Tools.MkfsExt2(img, 32L << 20, bs);
            var rng = new Random(seed);
            var root = new MDir { Ino = InodeNumber.Root };
            root.Children["lost+found"] = new MDir { Parent = root };
            int counter = 0;
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev, new Ext2MountOptions { CacheBlocks = 256 });
                ((MDir)root.Children["lost+found"]).Ino = E2Tools.Resolve(fs, "/lost+found");
                for (int i = 0; i < ops; i++)
                {
                    var dirs = AllDirs(root);
                    var dir = dirs[rng.Next(dirs.Count)];
                    var files = dir.Children.Where(kv => kv.Value is MFile).ToList();
                    int op = rng.Next(100);
                    if (op < 18 || files.Count == 0 && op < 60)
                    {
                        string name = $"f{counter++}";
                        Assert.Equal(Errno.OK, fs.Create(dir.Ino, name, E2Tools.Oct(644), 0, 0, out var ino));
                        dir.Children[name] = new MFile { Ino = ino };
                    }
                    else if (op < 40 && files.Count > 0)
                    {
                        var f = (MFile)files[rng.Next(files.Count)].Value;
                        int off = rng.Next(4) == 0 ? rng.Next(300_000) : Math.Min(f.Data.Length, 300_000);
                        var data = E2Tools.Pattern(rng.Next(1, 20_000), rng.Next());
                        E2Tools.WriteAll(fs, f.Ino, off, data);
                        if (off + data.Length > f.Data.Length) Array.Resize(ref f.Data, off + data.Length);
                        data.CopyTo(f.Data, off);
                    }
                    else if (op < 48 && files.Count > 0)
                    {
                        var f = (MFile)files[rng.Next(files.Count)].Value;
                        int size = rng.Next(3) == 0 ? 0 : rng.Next(Math.Max(1, f.Data.Length * 2));
                        Assert.Equal(Errno.OK, fs.Truncate(f.Ino, size));
                        Array.Resize(ref f.Data, size);
                    }
                    else if (op < 58 && files.Count > 0)
                    {
                        var (name, node) = files[rng.Next(files.Count)];
                        Assert.Equal(Errno.OK, fs.Unlink(dir.Ino, name));
                        dir.Children.Remove(name);
                        ((MFile)node).Links--;
                    }
                    else if (op < 64 && files.Count > 0)
                    {
                        var (_, node) = files[rng.Next(files.Count)];
                        var to = dirs[rng.Next(dirs.Count)];
                        string name = $"l{counter++}";
                        Assert.Equal(Errno.OK, fs.Link(((MFile)node).Ino, to.Ino, name));
                        to.Children[name] = node;
                        ((MFile)node).Links++;
                    }
                    else if (op < 74)
                    {
                        string name = $"d{counter++}";
                        Assert.Equal(Errno.OK, fs.Mkdir(dir.Ino, name, E2Tools.Oct(755), 0, 0, out var ino));
                        dir.Children[name] = new MDir { Parent = dir, Ino = ino };
                    }
                    else if (op < 80)
                    {
                        var subs = dir.Children.Where(kv => kv.Value is MDir && kv.Key != "lost+found").ToList();
                        if (subs.Count == 0) continue;
                        var (name, node) = subs[rng.Next(subs.Count)];
                        var err = fs.Rmdir(dir.Ino, name);
                        if (((MDir)node).Children.Count > 0) Assert.Equal(Errno.ENOTEMPTY, err);
                        else { Assert.Equal(Errno.OK, err); dir.Children.Remove(name); }
                    }
                    else if (op < 95)
                    {
                        var entries = dir.Children.Where(kv => kv.Key != "lost+found").ToList();
                        if (entries.Count == 0) continue;
                        var (name, node) = entries[rng.Next(entries.Count)];
                        var to = dirs[rng.Next(dirs.Count)];
                        string newName = rng.Next(3) == 0 && to.Children.Count > 0 ? to.Children.Keys.ElementAt(rng.Next(to.Children.Count)) : $"r{counter++}";
                        var err = fs.Rename(dir.Ino, name, to.Ino, newName);
                        var expected = ExpectRename(dir, name, node, to, newName);
                        Assert.True(expected == err, $"op {i}: rename {name} -> {newName}: {err}, model says {expected}");
                        if (err == Errno.OK && !(to == dir && name == newName) && !(to.Children.TryGetValue(newName, out var same) && same == node))
                        {
                            if (to.Children.TryGetValue(newName, out var old) && old is MFile of) of.Links--;
                            dir.Children.Remove(name);
                            to.Children[newName] = node;
                            if (node is MDir md) md.Parent = to;
                        }
                    }
                    else if (files.Count > 0)
                    {
                        var f = (MFile)files[rng.Next(files.Count)].Value;
                        Assert.Equal(Errno.OK, fs.Setxattr(f.Ino, $"user.k{rng.Next(4)}", E2Tools.Pattern(rng.Next(1, 300), i)));
                    }
                }
                Compare(fs, root);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
            E2Tools.StrictFsck(img);
            using (var dev = new FileBlockDevice(img))
            {
                var fs = E2Tools.MountOk(dev);
                Compare(fs, root);
                Assert.Equal(Errno.OK, fs.Unmount());
            }
        }
        finally { E2Tools.Delete(img); }
    }

    static Errno ExpectRename(MDir from, string name, object node, MDir to, string newName)
    {
        if (node is MDir md)
        {
            for (var p = to; p != null; p = p.Parent) if (p == md) return Errno.EINVAL;
        }
        if (!to.Children.TryGetValue(newName, out var target)) return Errno.OK;
        if (target == node) return Errno.OK;
        if (node is MDir && target is MFile) return Errno.ENOTDIR;
        if (node is MFile && target is MDir) return Errno.EISDIR;
        if (target is MDir td && td.Children.Count > 0) return Errno.ENOTEMPTY;
        if (newName == "lost+found") return Errno.OK;
        return Errno.OK;
    }

    static List<MDir> AllDirs(MDir root)
    {
        var list = new List<MDir>();
        void Walk(MDir d) { list.Add(d); foreach (var c in d.Children.Values) if (c is MDir s) Walk(s); }
        Walk(root);
        return list;
    }

    static void Compare(Ext2Fs fs, MDir dir)
    {
        Assert.Equal(Errno.OK, fs.List(dir.Ino, out var entries));
        var names = entries.Select(e => e.Name).Where(n => n != "." && n != "..").OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(dir.Children.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList(), names);
        int subdirs = dir.Children.Values.Count(c => c is MDir);
        Assert.Equal(Errno.OK, fs.GetAttr(dir.Ino, out var dst));
        Assert.Equal((uint)(2 + subdirs), dst.Nlink);
        foreach (var (name, node) in dir.Children)
        {
            Assert.Equal(Errno.OK, fs.Lookup(dir.Ino, name, out var ino));
            if (node is MFile f)
            {
                Assert.Equal(f.Ino, ino);
                Assert.Equal(Errno.OK, fs.GetAttr(ino, out var st));
                Assert.Equal((uint)f.Links, st.Nlink);
                Assert.Equal(f.Data.Length, st.Size);
                Assert.True(f.Data.AsSpan().SequenceEqual(E2Tools.ReadAll(fs, ino)), $"contents of {name}");
            }
            else
            {
                var d = (MDir)node;
                Assert.Equal(d.Ino, ino);
                Assert.Equal(Errno.OK, fs.Lookup(ino, "..", out var up));
                Assert.Equal(dir.Ino, up);
                Compare(fs, d);
            }
        }
    }
}
