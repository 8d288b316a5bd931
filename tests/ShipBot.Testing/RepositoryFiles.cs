namespace ShipBot.Testing;

/// <summary>Files of the repository itself (manifests, docs), found from the test assembly's folder.</summary>
public static class RepositoryFiles
{
    /// <summary>The repository root: the nearest folder above the test assembly that holds ShipBot.sln.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ShipBot.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException($"no ShipBot.sln above {AppContext.BaseDirectory}");
        }
    }

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>The least-privilege RBAC manifest for ShipBot's router targets.</summary>
    public static string RouterRbacManifest => PathOf(Path.Combine("infra", "k8s", "shipbot-rbac.yaml"));
}
