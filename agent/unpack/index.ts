export async function unpackTarball(_t: string, _d: string): Promise<{ms:number}> { throw new Error('todo'); }
