using Hurd.Fuse;

namespace Hurd.Fuse.Tests;

/// <summary>The FUSE daemon command line, as mount.fuse3 and users write it.</summary>
public class OptionsTests
{
    [Fact(Timeout = 10000)]
    public async Task MountFuse3Line_ParsesSourceMountPointAndOptions()
    {
        await Task.Yield();
        Assert.True(FuseMountOptions.TryParse(["image.img", "/mnt/x", "-o", "rw,nosuid,nodev,allow_other,default_permissions,contents=Hi\\, there,subtype=hello,noatime"], out var o, out string? err), err);
        Assert.Equal("/mnt/x", o.MountPoint);
        Assert.Equal("image.img", o.Source);
        Assert.True(o.AllowOther);
        Assert.True(o.DefaultPermissions);
        Assert.Equal("hello", o.Subtype);
        Assert.Equal(["contents=Hi, there"], o.Extra);
        Assert.NotEqual(0, o.MountFlags & 1024); // MS_NOATIME
    }

    [Fact(Timeout = 10000)]
    public async Task ShortFlags_AndGluedO_Parse()
    {
        await Task.Yield();
        Assert.True(FuseMountOptions.TryParse(["-f", "-s", "-oro,max_write=131072", "-d", "mnt"], out var o, out _));
        Assert.True(o.Foreground);
        Assert.True(o.Debug);
        Assert.Equal(1, o.Readers);
        Assert.True(o.ReadOnly);
        Assert.Equal(131072u, o.Connection.MaxWrite);
        Assert.Equal("mnt", o.MountPoint);
        Assert.Null(o.Source);
    }

    [Theory(Timeout = 10000)]
    [InlineData(new string[0], "missing mount point")]
    [InlineData(new[] { "mnt", "-o" }, "option '-o' requires an argument")]
    [InlineData(new[] { "-x", "mnt" }, "unknown option '-x'")]
    [InlineData(new[] { "mnt", "-o", "max_write=12" }, "bad value for max_write: '12'")]
    public async Task BadLines_SayWhatIsWrong(string[] args, string message)
    {
        await Task.Yield();
        Assert.False(FuseMountOptions.TryParse(args, out _, out string? err));
        Assert.Equal(message, err);
    }

    [Fact(Timeout = 10000)]
    public async Task FusermountOptions_CarryOnlyWhatFusermountKnows()
    {
        await Task.Yield();
        var o = new FuseMountOptions { Subtype = "hello", FsName = "a,b", AllowOther = true };
        Assert.Equal("rw,nosuid,nodev,exec,fsname=a\\,b,subtype=hello,allow_other", o.FusermountOptions());
    }

    [Fact(Timeout = 10000)]
    public async Task Help_NeedsNoMountPoint()
    {
        await Task.Yield();
        Assert.True(FuseMountOptions.TryParse(["--help"], out var o, out _));
        Assert.True(o.ShowHelp);
        Assert.Contains("-o default_permissions", FuseMountOptions.Help);
    }
}
