using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>
/// Runs the outsider's checker (<c>tools/DrawCheck/drawcheck.py</c>, Python, no code shared with the service)
/// on a proof bundle, and makes the tampered bundle a forger would: one inspector of the result swapped for
/// another, with the result hash in proof.txt fixed to match, so only the recomputation can catch it.
/// </summary>
public static class ProofCheck
{
    public static string CheckerPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tools", "DrawCheck", "drawcheck.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("tools/DrawCheck/drawcheck.py not found above " + AppContext.BaseDirectory);
    }

    /// <summary>python3 drawcheck.py BUNDLE: (exit code, output).</summary>
    public static async Task<(int Code, string Output)> RunAsync(string bundlePath)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CheckerPath());
        psi.ArgumentList.Add(bundlePath);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }

    /// <summary>The files of a bundle by name.</summary>
    public static Dictionary<string, byte[]> Read(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        });
    }

    public static byte[] Write(Dictionary<string, byte[]> files)
    {
        using var ms = new MemoryStream();
        using (var archive = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in files)
            {
                using var s = archive.CreateEntry(name).Open();
                s.Write(bytes);
            }
        return ms.ToArray();
    }

    /// <summary>
    /// The bundle with the first result row's first inspector replaced by an active inspector of the snapshot
    /// who is not in that team, the team re-sorted, and proof.txt's result_sha256 recomputed.
    /// </summary>
    public static byte[] SwapOneInspector(byte[] zip)
    {
        var files = Read(zip);
        var snapshot = Encoding.UTF8.GetString(files["snapshot.txt"]).Split('\n');
        var lines = Encoding.UTF8.GetString(files["result.txt"]).Split('\n');
        var row = lines[0].Split('\t');
        var team = row[2..].ToList();
        var outsider = snapshot.Where(l => l.StartsWith("I\t", StringComparison.Ordinal) && l.EndsWith("\t1", StringComparison.Ordinal))
            .Select(l => l.Split('\t')[1]).First(b => !team.Contains(b));
        team[0] = outsider;
        team.Sort(StringComparer.Ordinal);
        lines[0] = string.Join('\t', row[..2].Concat(team));
        var result = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        files["result.txt"] = result;
        var proof = Encoding.UTF8.GetString(files["proof.txt"]).Split('\n')
            .Select(l => l.StartsWith("result_sha256\t", StringComparison.Ordinal) ? "result_sha256\t" + Convert.ToHexStringLower(SHA256.HashData(result)) : l);
        files["proof.txt"] = Encoding.UTF8.GetBytes(string.Join('\n', proof));
        return Write(files);
    }
}
