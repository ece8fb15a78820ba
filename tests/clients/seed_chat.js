// The seed's JavaScript helpers, word for word except the host, which the test passes in.
const BASE = process.env.SEED_BASE_URL;

// 새로운 대화 시작
const startNewChat = async (message) => {
  const response = await fetch(`${BASE}/api/v1/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message })
  });
  
  const data = await response.json();
  return data; // { message, thread_id, role, created_at }
};

// 기존 대화 계속
const continueChat = async (message, threadId) => {
  const response = await fetch(`${BASE}/api/v1/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ 
      message, 
      thread_id: threadId 
    })
  });
  
  return await response.json();
};

// 시스템 데이터와 함께 전송 (디지털 사이니지 전용)
const chatWithSystemData = async (userMessage, systemData, threadId = null) => {
  const messageWithData = `
사용자 질문: ${userMessage}

현재 시스템 데이터:
- 타겟광고 수: ${systemData.targetedAds.length}개
- 디바이스 수: ${systemData.signages.length}개  
- 최근 시청 이벤트: ${systemData.viewEvents.length}개

타겟광고 데이터: ${JSON.stringify(systemData.targetedAds.slice(0, 5))}
디바이스 데이터: ${JSON.stringify(systemData.signages.slice(0, 5))}
시청 이벤트 데이터: ${JSON.stringify(systemData.viewEvents.slice(0, 10))}
  `;

  const response = await fetch(`${BASE}/api/v1/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      message: messageWithData,
      thread_id: threadId
    })
  });

  if (!response.ok) {
    throw new Error(`HTTP error! status: ${response.status}`);
  }

  const data = await response.json();
  return data.message;
};

// The scenario the test checks: start, continue, then ask about the dashboard's data.
const main = async () => {
  const first = await startNewChat('안녕하세요!');
  const second = await continueChat('이전에 뭐라고 말했는지 기억하나요?', first.thread_id);
  const systemData = {
    targetedAds: Array.from({ length: 7 }, (_, i) => ({ id: `ad-${i}`, campaign: 'spring' })),
    signages: Array.from({ length: 3 }, (_, i) => ({ id: `screen-${i}`, location: 'lobby' })),
    viewEvents: Array.from({ length: 12 }, (_, i) => ({ signage: `screen-${i % 3}`, views: i })),
  };
  const analysis = await chatWithSystemData('가장 많이 본 화면은?', systemData, first.thread_id);
  const fresh = await chatWithSystemData('Summary?', systemData);
  console.log(JSON.stringify({ first, second, analysis, fresh }));
};

main().catch((error) => { console.error(error.message); process.exit(1); });
