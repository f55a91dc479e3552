using Hurd.Cli.Commands;
using Hurd.Interfaces;

namespace Hurd.Cli.Tests;

/// <summary>settrans's flags, parsed as utils/settrans.c takes them.</summary>
public class SettransOptionsTests
{
    private static SettransOptions Parse(params string[] args)
    {
        var o = SettransOptions.Parse(args, out var error, out bool help);
        Assert.False(help);
        Assert.True(o is not null, error);
        return o!;
    }

    [Fact]
    public void Clustered_flags_node_and_translator_arguments()
    {
        var o = Parse("-ac", "/tmp/hi", "hello", "--contents=x", "-p");
        Assert.True(o.Active && o.Create);
        Assert.False(o.Passive);
        Assert.Equal("/tmp/hi", o.Node);
        Assert.Equal(["hello", "--contents=x", "-p"], o.Translator);
    }

    [Fact]
    public void Passive_is_the_default_and_explicit_passive_is_told_apart()
    {
        var d = Parse("node", "hello");
        Assert.True(d.Passive);
        Assert.False(d.PassiveExplicit);
        var p = Parse("-pc", "node", "hello");
        Assert.True(p.Passive && p.PassiveExplicit && p.Create);
        var a = Parse("-ap", "node", "hello");
        Assert.True(a.Active && a.Passive && a.PassiveExplicit);
    }

    [Fact]
    public void Goaway_alone_clears_the_passive_record_too()
    {
        var o = Parse("-fg", "node");
        Assert.True(o.GoAway && o.Force && o.Passive);
        Assert.Empty(o.Translator);
        Assert.Equal(GoAwayFlags.Force, o.GoAwayFlags);
        Assert.Equal(GoAwayFlags.Force | GoAwayFlags.Recurse | GoAwayFlags.NoSync, Parse("-gfRS", "node").GoAwayFlags);
    }

    [Fact]
    public void Timeouts_in_every_spelling()
    {
        Assert.Equal(5, Parse("-t", "5", "n").TimeoutSeconds);
        Assert.Equal(7, Parse("-t7", "n").TimeoutSeconds);
        Assert.Equal(9, Parse("--timeout=9", "n").TimeoutSeconds);
        Assert.Equal(11, Parse("--timeout", "11", "n").TimeoutSeconds);
        Assert.Equal(60, Parse("n").TimeoutSeconds);
    }

    [Fact]
    public void Long_options_and_double_dash()
    {
        var o = Parse("--active", "--create", "--exclusive", "--keep-active", "--", "-odd-node", "hello");
        Assert.True(o.Active && o.Create && o.Exclusive && o.Keep);
        Assert.Equal("-odd-node", o.Node);
    }

    [Theory]
    [InlineData("missing NODE")]
    [InlineData("invalid option -- 'q'", "-q", "n")]
    [InlineData("unrecognized option '--bogus'", "--bogus", "n")]
    [InlineData("invalid timeout 'x'", "-t", "x", "n")]
    [InlineData("invalid timeout '0'", "--timeout=0", "n")]
    [InlineData("-s starts the recorded passive translator: give no TRANSLATOR", "-s", "n", "hello")]
    public void Usage_errors(string expected, params string[] args)
    {
        Assert.Null(SettransOptions.Parse(args, out var error, out _));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Help()
    {
        SettransOptions.Parse(["-h"], out _, out bool help);
        Assert.True(help);
        SettransOptions.Parse(["--help"], out _, out help);
        Assert.True(help);
    }
}
