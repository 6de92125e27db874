import Engine
import Foundation
import S3
import Testing
import TestSupport

/// What the `s3` destination does with a real bucket beyond one backup: listings longer than one page,
/// retention, temporary credentials from a web identity, and stores without conditional writes.
@Suite struct S3StoreTests {
    /// S3 answers a listing 1,000 keys at a time; every page is read.
    @Test func aListingOfMoreThanAThousandObjectsIsComplete() async throws {
        let moto = try await MotoServer.shared
        let bucket = try await moto.makeBucket("many")
        let destination = try DestinationFixture.make(S3DestinationFactory(environment: moto.environment), ["bucket": bucket, "prefix": "p/"])
        let names = (0..<1_050).map { String(format: "app_20260101T%06dZ.sql.manifest.json", $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for batch in stride(from: 0, to: names.count, by: 150) {
                group.addTask {
                    for name in names[batch..<min(batch + 150, names.count)] { try await destination.replace(name: name, bytes: [1]) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await destination.list().map(\.name) == names)
        #expect(try await destination.list(prefix: "app_20260101T0010").count == 50)
    }

    @Test func pruneDeletesFromTheBucket() async throws {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("s3_prune", rows: 20)
        let bucket = try await moto.makeBucket("prune")
        let cli = try await S3DestinationTests.cli("prune", database: "s3_prune", bucket: bucket, extra: "count.keep = 5")
        defer { cli.cleanUp() }
        for _ in 0..<3 {
            let made = try await cli.run("now")
            #expect(made.status == 0, "\(made.stderr)")
        }
        let names = try await cli.listed().compactMap { $0["file"] as? String }
        #expect(names.count == 3)
        try String(contentsOfFile: cli.configPath, encoding: .utf8).replacingOccurrences(of: "count.keep = 5", with: "count.keep = 2")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let dry = try await cli.run("prune", "--dry-run")
        #expect(dry.status == 0 && dry.stdout.contains(names[0]), "\(dry.stdout)\(dry.stderr)")
        #expect(try await moto.keys(bucket).filter { !$0.contains("/.") }.count == 9, "a dry run deletes nothing")
        let pruned = try await cli.run("prune")
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let kept = try await moto.keys(bucket).filter { !$0.contains("/.") }
        #expect(kept.count == 6 && !kept.contains { $0.contains(names[0]) }, "\(kept)")
    }

    /// EKS's IRSA: no keys, a token file and a role; the token is exchanged with STS
    /// (`AssumeRoleWithWebIdentity`, unsigned, as AWS takes it) for temporary keys that sign the backup.
    /// moto answers an unsigned STS call only with signing off, so this runs against the second server;
    /// temporary keys under enforced signing are `temporaryKeysWithASessionTokenAreAccepted`.
    @Test func aWebIdentityGetsTemporaryKeysFromSTS() async throws {
        let moto = try await MotoServer.withoutSigning
        try await PostgresServer.shared.makeSampleDatabase("s3_irsa", rows: 20)
        let bucket = try await moto.makeBucket("irsa")
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.example"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#
        let role = try await moto.aws(["iam", "create-role", "--role-name", "backup-irsa", "--assume-role-policy-document", trust,
                                       "--query", "Role.Arn", "--output", "text"])
        #expect(role.status == 0, "\(role.stderr)")
        let cli = try await S3DestinationTests.cli("irsa", database: "s3_irsa", bucket: bucket, environment: [
            "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
            "AWS_ROLE_ARN": role.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
        ])
        defer { cli.cleanUp() }
        var withToken = cli
        withToken.environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = "\(cli.directory)/token"
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpiYWNrdXAifQ.c2ln\n"
            .write(toFile: "\(cli.directory)/token", atomically: true, encoding: .utf8)
        let made = try await withToken.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try await moto.keys(bucket).contains { $0.hasSuffix(".sql.gz") })
        // Without a token file there are no credentials at all, so the success above was the role's.
        let none = try await cli.run("now")
        #expect(none.status == 78 && none.stderr.contains("no S3 credentials"), "\(none.stderr)")
        withToken.environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = "\(cli.directory)/missing-token"
        let missing = try await withToken.run("now")
        #expect(missing.status == 1 && missing.stderr.contains("web identity token"), "\(missing.stderr)")
    }

    /// Temporary keys (an access key, its secret and a session token, as STS hands them out) sign requests
    /// that a server enforcing signing accepts.
    @Test func temporaryKeysWithASessionTokenAreAccepted() async throws {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("s3_session", rows: 20)
        let bucket = try await moto.makeBucket("session")
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        let name = "backup-session-\(bucket)"
        let role = try await moto.aws(["iam", "create-role", "--role-name", name, "--assume-role-policy-document", trust,
                                       "--query", "Role.Arn", "--output", "text"])
        #expect(try await moto.aws(["iam", "put-role-policy", "--role-name", name, "--policy-name", "s3", "--policy-document", policy]).status == 0)
        let assumed = try await moto.aws(["sts", "assume-role", "--role-arn", role.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                                          "--role-session-name", "backup", "--query",
                                          "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]", "--output", "text"])
        let keys = assumed.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(assumed.status == 0 && keys.count == 3 && keys[0].hasPrefix("ASIA"), "\(assumed.stdout)\(assumed.stderr)")
        guard keys.count == 3 else { return }
        let cli = try await S3DestinationTests.cli("session", database: "s3_session", bucket: bucket, environment: [
            "AWS_ACCESS_KEY_ID": keys[0], "AWS_SECRET_ACCESS_KEY": keys[1], "AWS_SESSION_TOKEN": keys[2],
        ])
        defer { cli.cleanUp() }
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        var noToken = cli
        noToken.environment["AWS_SESSION_TOKEN"] = ""
        let refused = try await noToken.run("now")
        // Refused by the store (the keys alone sign nothing it accepts), and named as the credentials' fault.
        #expect(refused.status == 1 && refused.stderr.contains("check the S3 access key"),
                "temporary keys without their token are refused: \(refused.stderr)")
    }

    /// A store that rejects conditional writes (501) is named as such, with the key that runs without
    /// locks; with `s3.lock = none` the backup runs and writes no lock object.
    @Test func aStoreWithoutConditionalWritesIsNamedAndLockNoneRuns() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        try await PostgresServer.shared.makeSampleDatabase("s3_nolock", rows: 20)
        let bucket = try await moto.makeBucket("nolock")
        try proxy.plan([["method": "PUT", "path": ".app.lock", "fault": "501", "times": -1]])
        let cli = try await S3DestinationTests.cli("nolock", database: "s3_nolock", bucket: bucket, environment: ["AWS_ENDPOINT_URL": proxy.endpoint])
        defer { cli.cleanUp() }
        let refused = try await cli.run("now")
        #expect(refused.status == 1 && refused.stderr.contains("does not support conditional writes") && refused.stderr.contains("s3.lock = none"),
                "\(refused.stderr)")
        #expect(try await moto.keys(bucket).isEmpty)
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\ns3.lock = none\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        let keys = try await moto.keys(bucket)
        #expect(keys.contains { $0.hasSuffix(".sql.gz") } && !keys.contains { $0.hasSuffix(".lock") }, "\(keys)")
    }
}
