import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { findMotoPython, MOTO_MISSING, MotoServer, startMoto } from "./moto";

describe("moto test server", () => {
  let moto: MotoServer | undefined;
  afterAll(() => moto?.stop());

  it("serves AWS APIs on a loopback port, forgets everything on reset, and is gone after stop", async () => {
    moto = await startMoto();
    expect(moto.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const sm = new SecretsManagerClient(moto.clientConfig());
    await sm.send(new CreateSecretCommand({ Name: "probe", SecretString: "v1" }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "probe" }))).SecretString).toBe("v1");
    await moto.reset();
    await expect(sm.send(new GetSecretValueCommand({ SecretId: "probe" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    sm.destroy();
    const url = moto.url;
    await moto.stop();
    await expect(fetch(`${url}/moto-api/data.json`)).rejects.toThrow();
  });

  it("without moto, fails with how to install it (never skips)", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-nopyenv-"));
    try {
      expect(() => findMotoPython({ PYENV_ROOT: empty, MOTO_PYTHON: "/bin/false" })).toThrow(MOTO_MISSING);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("finds a pyenv python that imports moto", () => {
    expect(findMotoPython()).toMatch(/python3$/);
  });
});
