using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Hurd.Fuse.Abi;

namespace Hurd.Fuse.Tests;

/// <summary>
/// Compares every wire struct's size and field offsets with the C header on the machine
/// (/usr/include/linux/fuse.h, compiled with gcc). Structs and fields newer than that header
/// (it may be older than 7.45) are checked only where the header has them.
/// </summary>
public partial class AbiTests
{
    private const string Header = "/usr/include/linux/fuse.h";

    private static readonly Dictionary<string, Type> Map = new()
    {
        ["fuse_in_header"] = typeof(FuseInHeader), ["fuse_out_header"] = typeof(FuseOutHeader),
        ["fuse_attr"] = typeof(FuseAttr), ["fuse_kstatfs"] = typeof(FuseKstatfs), ["fuse_file_lock"] = typeof(FuseFileLock),
        ["fuse_entry_out"] = typeof(EntryOut), ["fuse_forget_in"] = typeof(ForgetIn), ["fuse_forget_one"] = typeof(ForgetOne),
        ["fuse_batch_forget_in"] = typeof(BatchForgetIn), ["fuse_getattr_in"] = typeof(GetattrIn), ["fuse_attr_out"] = typeof(AttrOut),
        ["fuse_mknod_in"] = typeof(MknodIn), ["fuse_mkdir_in"] = typeof(MkdirIn), ["fuse_rename_in"] = typeof(RenameIn),
        ["fuse_rename2_in"] = typeof(Rename2In), ["fuse_link_in"] = typeof(LinkIn), ["fuse_setattr_in"] = typeof(SetattrIn),
        ["fuse_open_in"] = typeof(OpenIn), ["fuse_create_in"] = typeof(CreateIn), ["fuse_open_out"] = typeof(OpenOut),
        ["fuse_release_in"] = typeof(ReleaseIn), ["fuse_flush_in"] = typeof(FlushIn), ["fuse_read_in"] = typeof(ReadIn),
        ["fuse_write_in"] = typeof(WriteIn), ["fuse_write_out"] = typeof(WriteOut), ["fuse_statfs_out"] = typeof(StatfsOut),
        ["fuse_fsync_in"] = typeof(FsyncIn), ["fuse_setxattr_in"] = typeof(SetxattrIn), ["fuse_getxattr_in"] = typeof(GetxattrIn),
        ["fuse_getxattr_out"] = typeof(GetxattrOut), ["fuse_lk_in"] = typeof(LkIn), ["fuse_lk_out"] = typeof(LkOut),
        ["fuse_access_in"] = typeof(AccessIn), ["fuse_init_in"] = typeof(InitIn), ["fuse_init_out"] = typeof(InitOut),
        ["cuse_init_in"] = typeof(CuseInitIn), ["cuse_init_out"] = typeof(CuseInitOut), ["fuse_interrupt_in"] = typeof(InterruptIn),
        ["fuse_bmap_in"] = typeof(BmapIn), ["fuse_bmap_out"] = typeof(BmapOut), ["fuse_ioctl_in"] = typeof(IoctlIn),
        ["fuse_ioctl_iovec"] = typeof(IoctlIovec), ["fuse_ioctl_out"] = typeof(IoctlOut), ["fuse_poll_in"] = typeof(PollIn),
        ["fuse_poll_out"] = typeof(PollOut), ["fuse_notify_poll_wakeup_out"] = typeof(NotifyPollWakeupOut),
        ["fuse_fallocate_in"] = typeof(FallocateIn), ["fuse_dirent"] = typeof(FuseDirent), ["fuse_direntplus"] = typeof(FuseDirentplus),
        ["fuse_notify_inval_inode_out"] = typeof(NotifyInvalInodeOut), ["fuse_notify_inval_entry_out"] = typeof(NotifyInvalEntryOut),
        ["fuse_notify_delete_out"] = typeof(NotifyDeleteOut), ["fuse_notify_store_out"] = typeof(NotifyStoreOut),
        ["fuse_notify_retrieve_out"] = typeof(NotifyRetrieveOut), ["fuse_notify_retrieve_in"] = typeof(NotifyRetrieveIn),
        ["fuse_notify_prune_out"] = typeof(NotifyPruneOut), ["fuse_backing_map"] = typeof(BackingMap),
        ["fuse_lseek_in"] = typeof(LseekIn), ["fuse_lseek_out"] = typeof(LseekOut), ["fuse_copy_file_range_in"] = typeof(CopyFileRangeIn),
        ["fuse_copy_file_range_out"] = typeof(CopyFileRangeOut), ["fuse_setupmapping_in"] = typeof(SetupmappingIn),
        ["fuse_removemapping_in"] = typeof(RemovemappingIn), ["fuse_removemapping_one"] = typeof(RemovemappingOne),
        ["fuse_syncfs_in"] = typeof(SyncfsIn), ["fuse_secctx"] = typeof(Secctx), ["fuse_secctx_header"] = typeof(SecctxHeader),
        ["fuse_ext_header"] = typeof(ExtHeader), ["fuse_supp_groups"] = typeof(SuppGroups), ["fuse_sx_time"] = typeof(SxTime),
        ["fuse_statx"] = typeof(FuseStatx), ["fuse_statx_in"] = typeof(StatxIn), ["fuse_statx_out"] = typeof(StatxOut),
    };

    /// <summary>Sizes fuse.md §1.1 states for protocol 7.45, checked even without a C header.</summary>
    [Fact(Timeout = 10000)]
    public async Task Sizes_MatchTheProtocolReference()
    {
        await Task.Yield();
        Assert.Equal(40, Marshal.SizeOf<FuseInHeader>());
        Assert.Equal(16, Marshal.SizeOf<FuseOutHeader>());
        Assert.Equal(128, Marshal.SizeOf<EntryOut>());
        Assert.Equal(104, Marshal.SizeOf<AttrOut>());
        Assert.Equal(88, Marshal.SizeOf<FuseAttr>());
        Assert.Equal(16, Marshal.SizeOf<OpenOut>());
        Assert.Equal(40, Marshal.SizeOf<ReadIn>());
        Assert.Equal(40, Marshal.SizeOf<WriteIn>());
        Assert.Equal(88, Marshal.SizeOf<SetattrIn>());
        Assert.Equal(80, Marshal.SizeOf<FuseKstatfs>());
        Assert.Equal(64, Marshal.SizeOf<InitIn>());
        Assert.Equal(64, Marshal.SizeOf<InitOut>());
        Assert.Equal(24, Marshal.SizeOf<FuseDirent>());
        Assert.Equal(152, Marshal.SizeOf<FuseDirentplus>());
        Assert.Equal(256, Marshal.SizeOf<FuseStatx>());
        Assert.Equal(288, Marshal.SizeOf<StatxOut>());
    }

    [Fact(Timeout = 120000)]
    public async Task Structs_MatchTheCHeader_SizesAndOffsets()
    {
        if (!File.Exists(Header) || !HasGcc()) return; // no header or compiler here: nothing to compare against
        string text = StripComments(await File.ReadAllTextAsync(Header));
        var structs = new Dictionary<string, List<(string Name, bool Flexible)>>();
        foreach (Match m in StructRegex().Matches(text))
        {
            var fields = new List<(string, bool)>();
            foreach (Match f in FieldRegex().Matches(m.Groups[2].Value))
                fields.Add((f.Groups[1].Value, f.Groups[2].Value == "[]"));
            structs[m.Groups[1].Value] = fields;
        }
        var checkedStructs = Map.Keys.Where(structs.ContainsKey).ToList();
        Assert.True(checkedStructs.Count > 40, $"parsed only {checkedStructs.Count} structs from {Header}");

        var c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <linux/fuse.h>\nint main(void) {\n");
        foreach (string s in checkedStructs)
        {
            c.Append($"  printf(\"{s} %zu\\n\", sizeof(struct {s}));\n");
            foreach (var (f, flex) in structs[s])
                if (!flex) c.Append($"  printf(\"{s}.{f} %zu\\n\", offsetof(struct {s}, {f}));\n");
        }
        c.Append("  return 0;\n}\n");
        string dir = Path.Combine(Path.GetTempPath(), "hurd-fuse-abi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "abi.c"), c.ToString());
            var cc = await TestMount.Run(dir, "gcc", "-o", "abi", "abi.c");
            Assert.True(cc.ExitCode == 0, cc.Stderr);
            var run = await TestMount.Run(dir, Path.Combine(dir, "abi"));
            Assert.Equal(0, run.ExitCode);
            var failures = new List<string>();
            foreach (string line in run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] kv = line.Split(' ');
                int value = int.Parse(kv[1]);
                string[] parts = kv[0].Split('.');
                Type t = Map[parts[0]];
                if (parts.Length == 1)
                {
                    if (Marshal.SizeOf(t) != value) failures.Add($"sizeof {parts[0]}: C {value}, C# {Marshal.SizeOf(t)}");
                    continue;
                }
                string norm = parts[1].Replace("_", "").ToLowerInvariant();
                FieldInfo? fi = t.GetFields(BindingFlags.Public | BindingFlags.Instance)
                    .FirstOrDefault(x => x.Name.ToLowerInvariant() == norm);
                if (fi is null)
                {
                    // Fields renamed since the header's version (padding that became backing_id and the like) are checked by size only.
                    if (!PaddingRegex().IsMatch(parts[1])) failures.Add($"{parts[0]}.{parts[1]}: no C# field {t.Name}.{norm}");
                    continue;
                }
                int off = (int)Marshal.OffsetOf(t, fi.Name);
                // Padding and unused arrays shrink as fields are added (init_out.unused since 7.40): size only.
                if (off != value && !PaddingRegex().IsMatch(parts[1])) failures.Add($"offsetof {parts[0]}.{parts[1]}: C {value}, C# {off}");
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact(Timeout = 10000)]
    public async Task Opcodes_MatchTheCHeaderValues()
    {
        await Task.Yield();
        if (!File.Exists(Header)) return;
        string text = File.ReadAllText(Header);
        foreach (Match m in OpcodeRegex().Matches(text))
        {
            string name = m.Groups[1].Value.Replace("_", "").ToLowerInvariant();
            var op = Enum.GetValues<FuseOpcode>().Where(o => o.ToString().ToLowerInvariant() == name).ToList();
            if (op.Count == 1) Assert.Equal(uint.Parse(m.Groups[2].Value), (uint)op[0]);
        }
        foreach (Match m in FlagRegex().Matches(text))
        {
            string name = m.Groups[1].Value.Replace("_", "").ToLowerInvariant();
            var f = Enum.GetValues<InitFlags>().Where(o => o.ToString().ToLowerInvariant() == name).ToList();
            if (f.Count == 1) Assert.Equal(1UL << int.Parse(m.Groups[3].Value), (ulong)f[0]);
        }
    }

    private static bool HasGcc()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("gcc", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit(10000);
            return p.ExitCode == 0;
        }
        catch (Exception) { return false; }
    }

    private static string StripComments(string s) => CommentRegex().Replace(s, " ");

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)] private static partial Regex CommentRegex();
    [GeneratedRegex(@"struct\s+(\w+)\s*\{([^}]*)\};")] private static partial Regex StructRegex();
    [GeneratedRegex(@"(?:struct\s+\w+|u?int\d+_t|char)\s+(\w+)\s*(\[\w*\])?\s*;")] private static partial Regex FieldRegex();
    [GeneratedRegex(@"^(?:padding\d*|unused\d*|dummy\d*|spare\d*|__spare\d*|reserved|__reserved)$")] private static partial Regex PaddingRegex();
    [GeneratedRegex(@"^\s*FUSE_(\w+)\s*=\s*(\d+),", RegexOptions.Multiline)] private static partial Regex OpcodeRegex();
    [GeneratedRegex(@"#define\s+FUSE_(\w+)\s+\((1|1ULL)\s*<<\s*(\d+)\)")] private static partial Regex FlagRegex();
}
