using Hurd.Ipc.Abi;
using Hurd.Translators;
using Hurd.Translators.Tests;

namespace Hurd.Ext2fs.Tests;

/// <summary>Ext2fsDirectory.ReadDir hands entries to the sink in batches read under the core's lock: a listing longer
/// than a batch (by entries or by name bytes) restarts the core's walk at the last cookie, and must still give every
/// entry exactly once; a sink may list another directory from inside Add.</summary>
public sealed class Ext2fsReaddirTests
{
    const int T = 120_000;

    [Fact(Timeout = T)]
    public async Task LongListing_AcrossBatches_GivesEveryEntryOnce_AndResumesFromACookie()
    {
        await Task.Yield();
        string image = E2Tools.TempPath();
        E2Tools.MkfsExt2(image, 32L << 20, 4096);
        try
        {
            using (var fs = E2Tools.Open(image))
            {
                var c = new PosixClient(fs.Root, Identity.Root);
                Assert.Equal(Errno.OK, c.Mkdir("d"));
                Assert.Equal(Errno.OK, c.Mkdir("e"));
                var want = new HashSet<string> { ".", ".." };
                // 600 short names (more than a batch's entries) and 200 long ones (more than a batch's name bytes).
                for (int i = 0; i < 600; i++) want.Add("s" + i);
                for (int i = 0; i < 200; i++) want.Add(new string('l', 150) + i);
                foreach (var n in want)
                    if (n is not ("." or "..")) Assert.Equal(Errno.OK, c.WriteFile("d/" + n, ""));
                for (int i = 0; i < 3; i++) Assert.Equal(Errno.OK, c.WriteFile("e/x" + i, ""));

                Assert.Equal(Errno.OK, c.Open("d", OpenFlags.Read, out var p));
                Assert.Equal(Errno.OK, c.Open("e", OpenFlags.Read, out var q));
                try
                {
                    // A sink that lists another directory on the same thread in the middle of the listing.
                    var inner = new ListSink(int.MaxValue);
                    var all = new NestingSink(() => Assert.Equal(Errno.OK, Calls.DirReaddir(q, 0, inner)));
                    Assert.Equal(Errno.OK, Calls.DirReaddir(p, 0, all));
                    Assert.Equal(want.Count, all.Entries.Count);
                    Assert.Equal(want, all.Entries.Select(e => e.Name).ToHashSet());
                    Assert.Equal(5, inner.Entries.Count);
                    // "." comes with the directory's own node; the others without one (the contract allows it).
                    Assert.Same(p.Node, all.Entries.Single(e => e.Name == ".").Node);
                    Assert.All(all.Entries.Where(e => e.Name != "."), e => Assert.Null(e.Node));

                    // Resuming from the cookie after entry k gives exactly the entries after it.
                    int k = 555;
                    var rest = new ListSink(int.MaxValue);
                    Assert.Equal(Errno.OK, Calls.DirReaddir(p, all.Entries[k].Next, rest));
                    Assert.Equal(all.Entries.Skip(k + 1).Select(e => e.Name), rest.Entries.Select(e => e.Name));

                    // A sink that stops takes exactly what it accepted.
                    var some = new ListSink(700);
                    Assert.Equal(Errno.OK, Calls.DirReaddir(p, 0, some));
                    Assert.Equal(all.Entries.Take(700).Select(e => e.Name), some.Entries.Select(e => e.Name));
                }
                finally
                {
                    p.Release();
                    q.Release();
                }
            }
            E2Tools.StrictFsck(image);
        }
        finally { E2Tools.Delete(image); }
    }

    sealed class NestingSink(Action nested) : IDirEntrySink
    {
        public List<(string Name, ulong Ino, long Next, Node? Node)> Entries { get; } = new();

        public bool Add(ReadOnlySpan<byte> name, ulong ino, FileMode type, long nextCookie, Node? node)
        {
            Entries.Add((System.Text.Encoding.UTF8.GetString(name), ino, nextCookie, node));
            if (Entries.Count == 300) nested();
            return true;
        }
    }
}
